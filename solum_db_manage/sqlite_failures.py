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

"""Why a migration statement failed on SQLite, where SQLite's own words
mislead: another process holding the file, a full disk, a file-size limit,
or Alembic's cleanup of a failed table rebuild hiding the cause.
"""

import contextlib

from solum_db_manage import db, errors


def _masked_by_cleanup(error):
    """The error a batch operation's cleanup hid, or ``error`` itself.

    Where a SQLite table rebuild fails (a full disk), Alembic drops its
    copy ``_alembic_tmp_<table>``, which the failure already rolled back:
    "no such table" then replaces the real cause.
    """
    from sqlalchemy import exc

    statement = (error.statement or "").lstrip().upper()
    if not (statement.startswith("DROP TABLE")
            and "_ALEMBIC_TMP_" in statement):
        return error
    # SQLAlchemy raises its error from the driver's, which was raised
    # while the first failure was being handled.
    for link in _chain(error):
        if isinstance(link, exc.DBAPIError) and link is not error:
            return link
    return error


def _chain(error, depth=6):
    """The exceptions ``error`` was raised from or while handling."""
    links, todo = [], [error]
    while todo and len(links) < depth:
        link = todo.pop(0)
        for cause in (link.__cause__, link.__context__):
            if cause is not None and all(cause is not f for f in links):
                links.append(cause)
                todo.append(cause)
    return links


def _write_failure(path):
    """Why writing the SQLite file failed, as far as the process can tell."""
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY:
        return (f"the file-size limit of this process (ulimit -f, "
                f"RLIMIT_FSIZE) is {limit} bytes, too small for the SQLite "
                f"database {path} or its journal")
    import os

    try:
        info = os.statvfs(os.path.dirname(os.path.abspath(path)))
        free = f"; {info.f_bavail * info.f_frsize} bytes are free now"
    except OSError:
        free = ""
    return (f"the filesystem holding the SQLite database {path} is full, or "
            f"the disk failed (see the system log){free}")


@contextlib.contextmanager
def explained(url, path, seconds):
    """Name the real cause of a SQLite migration failure (see the module)
    on the database at ``url``, the file ``path``; ``seconds``: how long a
    statement waits for another process (--ddl-lock-timeout)."""
    from sqlalchemy import exc

    try:
        yield
    except exc.DBAPIError as raised:
        if db.parse_url(url).get_backend_name() != "sqlite":
            raise
        error = _masked_by_cleanup(raised)
        code = getattr(error.orig, "sqlite_errorcode", None)
        if db.sqlite_busy(error):
            raise errors.SolumDBManageError(
                f"another process has a transaction open on the SQLite "
                f"database {path} (a writer, or a reader while "
                f"a revision commits); a migration "
                f"statement waited {float(seconds):g} s for it "
                f"(--ddl-lock-timeout) and did not run: its revision was "
                f"rolled back whole, revisions finished before it stay "
                f"applied ('solum-db-manage check' tells where the database "
                f"is). Run the command again once that process has "
                f"finished.") from error
        if code is not None and code & 0xFF in (10, 13):   # IOERR, FULL
            statement = " ".join((error.statement or "").split())[:200]
            raise errors.SolumDBManageError(
                f"database error: {error.orig}: "
                f"{_write_failure(path)}. The revision in "
                f"progress was rolled back whole; revisions finished before "
                f"it stay applied. [SQL: {statement}]") from error
        if error is not raised:
            raise error from None
        raise
