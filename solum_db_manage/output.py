# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The one channel for what the tool prints, with passwords masked.

Results go to stdout (the commands print them); every warning and error
goes through the one logger ``solum_db_manage`` (:data:`LOG`,
:func:`warn`, :func:`error`), set up as oslo.log sets up services
(:func:`setup_logging`); the final error also as the ``ERROR: ...``
line on stderr (:func:`error`).
"""

import logging
import re
import sys
import urllib.parse

PROG = "solum-db-manage"

MASK = "***"

# Passwords this long or longer are masked wherever they appear.
_MIN_SECRET = 4

# "scheme://user:password@" in printed text: the password part is masked,
# up to the last "@" of the word (see _mask_url_password): a password may
# hold "@" (or ":", "/", "?", "#") unencoded, and the host is what follows
# the last "@".
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)", re.IGNORECASE)
# "?password=..." or "&passwd=..." in a URL's query: the value is masked.
_QUERY_PASSWORD = re.compile(
    r"(?P<head>[?&](?:password|passwd)=)(?P<password>[^&\s]*)",
    re.IGNORECASE,
)

# "user:" anywhere, to learn the password of a malformed URL, up to the
# first "@" and up to the last one of the word. Not "scheme://user@": a URL
# without a password has none to learn. The look-behind starts a match
# only where a run of user characters starts: linear time on long words.
_ANY_USER = re.compile(r"(?<![^:/@\s])[^:/@\s]+:(?!//)")
_WORD = re.compile(r"\S+")

_SCHEME = re.compile(r"\b[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def password_span(url):
    """Where the password of ``scheme://user:PASSWORD@host...`` is.

    Structurally, encoded or not: from the first ":" after the user to
    the last "@" of the URL, the one before the host. Returns ``(start,
    end)`` indexes into ``url``, or None where there is no password. The
    user holds no ":" or "/"; an "@" before the ":" is part of the user.
    """
    match = _SCHEME.search(url or "")
    if match is None:
        return None
    start = match.end()
    colon = url.find(":", start)
    at = url.rfind("@")
    if colon < 0 or at < colon or "/" in url[start:colon]:
        return None
    return colon + 1, at


def extra_at_sign(url):
    """True where an "@" follows the one that ends the password.

    SQLAlchemy (and so Solum's services) ends the password at the first
    "@" after the user's ":": any later "@" makes the rest of the
    password read as the host, database or query.
    """
    span = password_span(url)
    if span is None:
        return False
    return "@" in url[span[0]:span[1]]


class Redactor:
    """Masks database passwords in any text."""

    def __init__(self):
        self._secrets = set()

    def add_url(self, url):
        """Remember the password of a connection URL, in every spelling."""
        url = url or ""
        span = password_span(url)
        if span is not None:
            password = url[span[0]:span[1]]
            self._add_secret(password)
            # Where SQLAlchemy would end it: at its first "@".
            self._add_secret(password.split("@", 1)[0])
        for match in _QUERY_PASSWORD.finditer(url):
            self._add_secret(match["password"])
        for word in _WORD.findall(url):
            last_at = word.rfind("@")
            user = _ANY_USER.search(word, 0, max(last_at, 0))
            if user is not None:
                password = word[user.end():last_at]
                self._add_secret(password)
                self._add_secret(password.split("@", 1)[0])

    def _add_secret(self, raw):
        spellings = {raw}
        # As written, as decoded, and each as a URL spells it: fully
        # encoded, in a query, and as SQLAlchemy renders one (" +" kept).
        for text in (raw, urllib.parse.unquote(raw)):
            spellings.add(text)
            try:
                spellings.add(urllib.parse.quote(text, safe=""))
                spellings.add(urllib.parse.quote(text, safe=" +"))
                spellings.add(urllib.parse.quote_plus(text, safe=""))
            except UnicodeError:
                pass    # bytes that are not UTF-8 have no encoded spelling
        for secret in spellings:
            # Shorter ones would mask revision ids and words; the URL
            # pattern above still masks them wherever a URL is printed.
            if len(secret) >= _MIN_SECRET:
                self._secrets.add(secret)

    def __call__(self, text):
        # The known passwords first, whole: the patterns below would cut
        # one holding a space or an "&" short.
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        if "://" in text:
            text = _WORD.sub(_mask_url_password, text)
        return _QUERY_PASSWORD.sub(rf"\g<head>{MASK}", text)


def _mask_url_password(word):
    """One word: ``scheme://user:PASSWORD@host`` -> ``...:***@host``."""
    word = word[0]
    last_at = word.rfind("@")
    head = _URL_CREDENTIALS.search(word, 0, max(last_at, 0))
    if head is None:
        return word
    return word[:head.end()] + MASK + word[last_at:]


class RedactingStream:
    """A text stream that masks passwords before writing to another."""

    def __init__(self, stream, redact):
        self._stream = stream
        self._redact = redact

    def write(self, text):
        return self._stream.write(self._redact(text))

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class RedactingFilter(logging.Filter):
    """Masks passwords in log records, tracebacks included."""

    def __init__(self, redact):
        super().__init__()
        self._redact = redact

    def filter(self, record):
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(
                record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self._redact(message)
        record.args = None
        return True


# --- results, on stdout -----------------------------------------------------

def write_result(stream, line):
    """Write one line of a command's result: characters ``stream``'s
    encoding lacks become "?", and a closed pipe ends the line quietly,
    as Alembic writes its own (config.Config.print_stdout serves both)."""
    encoding = getattr(stream, "encoding", "ascii") or "ascii"
    for part in (line, "\n"):
        try:
            stream.write(part.encode(encoding, "replace").decode(encoding))
        except OSError:
            break


# --- logging, as oslo.log sets it up in OpenStack services ------------------

# The logger of the tool's own lines.
LOGGER = "solum_db_manage"
LOG = logging.getLogger(LOGGER)

# Marks the record of the final ``ERROR: ...`` line (see error()), which
# writes that line itself: no handler on stderr writes the record too.
_FINAL = "solum_db_manage_final"


class _SkipFinal(logging.Filter):
    """On stderr: drop the final error's record, which error() prints."""

    def filter(self, record):
        return not getattr(record, _FINAL, False)


class _RedactingFormatter(logging.Formatter):
    """Another formatter's lines, with passwords masked."""

    def __init__(self, inner, redact):
        super().__init__()
        self.inner = inner or logging.Formatter()
        self._redact = redact

    def format(self, record):
        return self._redact(self.inner.format(record))


def _unwrapped(stream):
    return getattr(stream, "_stream", stream)


def _writes_to_stderr(handler):
    if (not isinstance(handler, logging.StreamHandler)
            or isinstance(handler, logging.FileHandler)):
        return False
    stream = _unwrapped(getattr(handler, "stream", None))
    return stream is not None and stream in (
        _unwrapped(sys.stderr), sys.__stderr__)


def _handlers():
    """Every handler of every logger (a log_config_append file can put
    them on any logger, not only the root)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)]
    seen = []
    for logger in loggers:
        for handler in logger.handlers:
            if handler not in seen:
                seen.append(handler)
    return seen


def setup_logging(conf, redact, product, version):
    """oslo.log's set-up, then what a command line tool needs besides.

    As in services: ``log_file``/``log_dir`` write the log to the file
    only, ``use_journal`` to the journal, ``use_syslog`` adds syslog, and
    ``log_config_append`` hands the whole set-up to a logging ini file.
    Where no handler writes to stderr then, warnings and errors still go
    there (the bad-input contract: the user sees why a run failed).
    Without any of them the log goes to stderr, not oslo.log's stdout,
    so that scripts can parse the results on stdout. Every handler masks
    passwords.
    """
    from oslo_config import cfg
    from oslo_log import formatters, log

    elsewhere = bool(conf.log_file or conf.log_dir or conf.use_journal)
    if (elsewhere and conf.get_location("use_stderr").location
            is cfg.Locations.set_default):
        # Our default (stderr) stands in for oslo.log's stdout fallback
        # only; set in a file, use_stderr = True adds stderr as it would.
        conf.set_override("use_stderr", False)
    if conf.log_config_append:
        # oslo.log reloads the file only where its mtime changed since
        # the last set-up in this process; each run is a fresh start.
        log._load_log_config.old_time = 0
    # Each run is a fresh start for the tool's own logger too: a level an
    # earlier set-up in this process left on it (an Alembic ini's
    # fileConfig, say) would hide what --debug asks for. oslo.log sets the
    # levels of default_log_levels; ours follows the root logger's.
    logging.getLogger(LOGGER).setLevel(logging.NOTSET)
    _describe_setup_errors(lambda: log.setup(conf, product, version),
                           conf)
    handlers = _handlers()
    if not any(_writes_to_stderr(handler) for handler in handlers):
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(formatters.ContextFormatter(
            project=product, version=version, datefmt=conf.log_date_format,
            config=conf))
        logging.getLogger().addHandler(stderr)
        handlers.append(stderr)
    for handler in handlers:
        # oslo.log keeps its syslog handler across set-ups in a process.
        for old in [f for f in handler.filters
                    if isinstance(f, (RedactingFilter, _SkipFinal))]:
            handler.removeFilter(old)
        handler.addFilter(RedactingFilter(redact))
        # The formatter adds text of its own (oslo.log: the summary of
        # the exception being handled): masked once formatted too.
        formatter = handler.formatter
        if isinstance(formatter, _RedactingFormatter):
            formatter = formatter.inner
        handler.setFormatter(_RedactingFormatter(formatter, redact))
        if _writes_to_stderr(handler):
            handler.addFilter(_SkipFinal())


def _describe_setup_errors(setup, conf):
    """Run oslo.log's set-up; a destination it cannot use is one error."""
    from oslo_log import log

    from solum_db_manage import errors

    try:
        setup()
    except log.LogConfigError as error:
        raise errors.ConfigError(
            f"logging: {' '.join(str(error).split())}") from error
    except OSError as error:
        path = error.filename or conf.log_file or conf.log_dir
        raise errors.ConfigError(
            f"logging: cannot open the log file {path}: "
            f"{error.strerror or error}") from error
    except RuntimeError as error:
        # use_journal without the systemd bindings, syslog elsewhere
        # than on UNIX: oslo.log says so in a RuntimeError.
        raise errors.ConfigError(
            f"logging: {error} (use_journal needs the systemd Python "
            f"bindings, python3-systemd)" if conf.use_journal
            else f"logging: {error}") from error


def fold(message):
    """``message`` on one line: each run of white space one space."""
    return " ".join(str(message).split())


def warn(message):
    """One warning, on one line, through the tool's logger (stderr, or
    where the log goes)."""
    LOG.warning("%s", fold(message))


def error(message, details=(), logged=True, exc_info=None):
    """The final error of a run: the ``ERROR: ...`` line on stderr.

    Where logging is set up (``logged``), the ``details`` (the items of a
    list the message folds) and the message are logged too, one record
    each: the final line's record is marked so that no handler writing to
    stderr repeats it there, where the log goes elsewhere (a file,
    syslog). ``exc_info``: a traceback for the log (--debug).
    """
    line = fold(message)
    if logged:
        for detail in details:
            LOG.error("%s", detail)
        LOG.error("%s", line, exc_info=exc_info, extra={_FINAL: True})
    sys.stderr.write(f"ERROR: {line}\n")
