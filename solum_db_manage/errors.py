"""The errors solum-db-manage reports; main() turns them into exit codes."""

# Exit statuses, documented in README.rst and the man page.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class SolumDBManageError(Exception):
    """An expected failure: reported as one ``ERROR:`` line, no traceback."""

    exit_code = EXIT_ERROR


class UsageError(SolumDBManageError):
    """The command line asks for something the tool refuses to guess."""

    exit_code = EXIT_USAGE


class ConfigError(SolumDBManageError):
    """The configuration is missing or unusable."""
