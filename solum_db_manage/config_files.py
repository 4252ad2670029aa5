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

"""Look at the configuration files before oslo.config reads them.

oslo.config opens and reads each file whole, whatever it is: ``/dev/zero``
makes it grow without bound, a FIFO blocks it forever, a huge file takes
its memory. :func:`check` stats (never opens) every file it would read --
``--config-file`` and the ``*.conf`` of ``--config-dir``, or the default
locations where those are not given -- and refuses, with one clear error,
any that is not a regular file or is larger than :data:`MAX_SIZE`.
``/dev/null`` is let through: it reads as an empty file, and
``--config-file /dev/null`` is the usual way to read no configuration.

A path that does not exist or cannot be reached is left to oslo.config,
which reports it in its own words.
"""

import glob
import os
import stat

from solum_db_manage import errors

# Larger than any real solum.conf (the sample is 3 KiB; a whole nova.conf
# with every comment is under 1 MiB), small enough to parse in well under
# a second.
MAX_SIZE = 4 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _option_values(argv, option):
    """The values given to ``option`` (or an unambiguous abbreviation of
    it, which argparse accepts) before ``--``."""
    values = []
    at = 0
    while at < len(argv):
        arg = argv[at]
        if arg == "--":
            break
        name, equals, value = arg.partition("=")
        # "--config-" alone is ambiguous: --config-file or --config-dir.
        if (name.startswith("--config-") and len(name) > len("--config-")
                and option.startswith(name)):
            if equals:
                values.append(value)
            elif at + 1 < len(argv):
                values.append(argv[at + 1])
                at += 1
        at += 1
    return values


def files_to_read(argv, project, prog):
    """The files oslo.config would read, in its order (see cfg.py)."""
    from oslo_config import cfg

    files = _option_values(argv, "--config-file")
    dirs = _option_values(argv, "--config-dir")
    given = {option: any(arg == option or arg.startswith(option + "=")
                         for arg in argv) for option in ("--config-file",
                                                         "--config-dir")}
    if not given["--config-file"]:
        files += cfg.find_config_files(project=project, prog=prog)
    if not given["--config-dir"]:
        dirs += cfg.find_config_dirs(project=project, prog=prog)
    for directory in dirs:
        if os.path.isdir(directory):
            files += sorted(glob.glob(os.path.join(directory, "*.conf")))
    return files


def check(argv, project, prog):
    """Raise ConfigError for a file oslo.config must not read."""
    for path in files_to_read(argv, project, prog):
        _check_file(path)


def parse(conf, argv, project, prog, version):
    """Parse argv and the files with oslo.config's ``conf``, once
    :func:`check` let them through; a file oslo.config fails to read
    raises ConfigError naming it."""
    check(argv, project, prog)
    try:
        conf(args=argv, project=project, prog=prog, version=version)
    except (UnicodeDecodeError, OSError) as error:
        # oslo.config reads the files itself and lets these through.
        named = getattr(error, "filename", None) or ", ".join(
            _option_values(argv, "--config-file")) or "a configuration file"
        reason = ("it is not UTF-8 text" if isinstance(
            error, UnicodeDecodeError) else error.strerror or str(error))
        raise errors.ConfigError(
            f"configuration: cannot read {named}: {reason}") from error


def files_read(conf):
    """The files a parsed ``conf`` read, for messages."""
    files = list(conf.config_file or [])
    for directory in conf.config_dir or []:
        files.extend(sorted(glob.glob(os.path.join(directory, "*.conf"))))
    return files


def _is_dev_null(info):
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return (stat.S_ISCHR(info.st_mode)
            and (info.st_rdev, info.st_ino) == (null.st_rdev, null.st_ino))


def _refuse(path, reason):
    raise errors.ConfigError(f"configuration: cannot read {path}: {reason}")


def _check_file(path):
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return      # missing, unreachable: oslo.config says so
    if stat.S_ISDIR(info.st_mode):
        _refuse(path, "Is a directory")
    try:
        # Non-blocking: a path that became a FIFO since stat() must not
        # block the open either.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return      # no permission...: oslo.config says so
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if _is_dev_null(info):
            return      # "--config-file /dev/null": no configuration file
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS
                         if test(info.st_mode)), "not a regular file")
            _refuse(path, f"it is {kind}, not a regular file")
        if info.st_size > MAX_SIZE:
            _refuse(path, f"it holds {info.st_size} bytes, more than the "
                          f"{MAX_SIZE} (4 MiB) a configuration file may "
                          f"hold")
        data = stream.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        _refuse(path, f"it holds more than the {MAX_SIZE} bytes (4 MiB) a "
                      f"configuration file may hold")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        _refuse(path, "it is not UTF-8 text")
    if b"\0" in data:
        _refuse(path, "it is binary, not text (it holds NUL bytes)")
