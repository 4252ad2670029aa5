"""The guarded change pipeline of ``upgrade``, ``downgrade`` and ``stamp``:
lock, diagnose, refuse, plan, review, apply.
"""

import contextlib
import logging

from solum_db_manage import db, errors, releases, scripts
from solum_db_manage.output import PROG

LOG = logging.getLogger("solum_db_manage")


def _sqlite_file(url):
    from solum_db_manage import lock

    return lock.sqlite_path(db.parse_url(url).database or "")


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
    found, todo = [], [error]
    while todo and len(found) < depth:
        link = todo.pop(0)
        for cause in (link.__cause__, link.__context__):
            if cause is not None and all(cause is not f for f in found):
                found.append(cause)
                todo.append(cause)
    return found


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
def _explaining_sqlite_failures(url, seconds):
    """Name the real cause of a SQLite migration failure: another process
    holding the file, a full disk, a file-size limit."""
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
                f"database {_sqlite_file(url)} (a writer, or a reader while "
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
                f"{_write_failure(_sqlite_file(url))}. The revision in "
                f"progress was rolled back whole; revisions finished before "
                f"it stay applied. [SQL: {statement}]") from error
        if error is not raised:
            raise error from None
        raise


@contextlib.contextmanager
def locked(config, command):
    """Hold the migration lock, then connect: see lock.py."""
    from solum_db_manage import lock

    held = lock.MigrationLock(
        config.attributes["url"], command,
        timeout=config.attributes.get("lock_timeout", lock.DEFAULT_TIMEOUT),
        lease=lock.lease_term(
            config.attributes.get("lock_lease", lock.DEFAULT_LEASE),
            config.attributes.get("ddl_lock_timeout")),
        report=_report)
    with held.held():
        config.attributes["lock"] = held
        try:
            with (db.connect(config) as connection,
                  _explaining_sqlite_failures(
                      config.attributes["url"],
                      config.attributes.get("ddl_lock_timeout", 5))):
                held.register(connection)
                yield connection, held
        finally:
            config.attributes.pop("lock", None)


def _report(line, level=logging.INFO):
    LOG.log(level, "%s", line)


def refuse(found, command):
    """Stop before a command that cannot go well from this state."""
    if (found.state in ("newer", "untracked", "mismatch", "corrupt")
            and command not in found.allows):
        raise errors.SolumDBManageError(
            f"{command} refused, nothing was changed: "
            + " ".join(found.lines()), exit_code=found.status,
            details=[f"{command} refused, nothing was changed:",
                     *found.lines()])
    if found.state == "interrupted":
        LOG.warning("%s Completing it.", found.lock.describe()
                    if found.lock else found.message)


_PRE_SQUASH_INSTEAD = {
    "upgrade": "'{prog} upgrade head' reaches the newest schema, and "
               "'{prog} check' says where the database is",
    "downgrade": "the oldest schema a release had is icehouse: "
                 "'{prog} downgrade icehouse' ('downgrade base' drops every "
                 "Solum table)",
    "stamp": "'{prog} check' names the revision whose schema the database "
             "holds, and the stamp to run",
    "show": "'{prog} show {squashed}' shows the revision they became",
    "history": "'{prog} history -r base:{squashed}' shows the revisions "
               "they became",
}


def refuse_pre_squash(command, spec):
    """Name a revision the 2014 squash removed, and what works instead."""
    squashed = releases.pre_squash(spec)
    if squashed is None:
        return
    instead = _PRE_SQUASH_INSTEAD[command].format(
        prog=PROG, squashed=releases.SQUASHED_INTO)
    raise errors.SolumDBManageError(
        f"{releases.describe_pre_squash(squashed)}; {instead}.")


def _target(script, spec):
    """The revision id ``spec`` names ("" for base), or None where it is
    relative (``+1``, ``kilo-1``: counted from the database) or several."""
    import re

    if re.search(r"[+\-][0-9]+$", spec or ""):
        return None
    if spec == "base":
        return ""
    try:
        revisions = [rev for rev in script.get_revisions(spec)
                     if rev is not None]
    except Exception:
        # Alembic's own call (upgrade, downgrade) says what is wrong.
        return None
    return revisions[0].revision if len(revisions) == 1 else None


def _order(revision):
    """Position of a revision in the chain: base ("") is -1."""
    from solum_db_manage import chain

    return chain.current().revisions.index(revision) if revision else -1


def is_past(config, connection, found, spec, direction, asked=None):
    """Where ``spec`` lies the other way from the database: a message.

    ``direction`` is 1 for upgrade (a target older than the database) and
    -1 for downgrade (a target newer than it); None where it is not.
    """
    from solum_db_manage import chain

    if len(found.recorded) != 1:
        return None
    at = found.recorded[0]
    target = _target(scripts.script_directory(config), spec)
    known = chain.current().revisions
    if target is None or at not in known or (target and target not in
                                              known):
        return None
    if (_order(target) - _order(at)) * direction >= 0:
        return None
    name = described(target) if target else "base"
    if direction == 1:
        return (f"Nothing to do: the database is at {described(at)}, "
                f"later than {name}, and upgrade never goes back; "
                f"'{PROG} downgrade {asked or target or 'base'}' would.")
    return (f"downgrade refused, nothing was changed: the database is at "
            f"{described(at)}, earlier than {name}, and downgrade never "
            f"goes forward; '{PROG} upgrade {asked or target}' would.")


def described(revision):
    release = releases.describe(revision)
    return f"{revision} ({release})" if release else revision


def nothing_to_do(config, connection):
    heads = db.current_heads(connection)
    at = ", ".join(f"{h} ({releases.describe(h)})" if releases.describe(h)
                   else h for h in heads) or "base (no version)"
    config.print_stdout(
        "Nothing to do: the database is already at %s.", at)


def debug_plan(command, revision, steps):
    LOG.debug("Plan: %s %s walks %d revisions%s", command, revision,
              len(steps), ": " + ", ".join(
                  step.revision.revision for step in steps) if steps else "")


def normalise(connection, held, found):
    """Turn the parts of the schema in the original Solum's form into this
    tool's form (forms.py), before any revision runs: the first step of
    every upgrade, also of a database recorded at head. True if it
    changed anything."""
    from solum_db_manage import forms

    if not found.forms:
        return False
    held.changing = True
    changed = forms.normalise(connection)
    held.verify()
    connection.commit()
    for difference in changed:
        LOG.info("Normalised the original Solum's form: %s.", difference)
    return bool(changed)


def build_head(connection, held, found):
    """The fresh-install fast path: True if it built the head schema.

    On a database diagnosed empty (or holding what a cut-short run of
    this path left), in the transaction the diagnosis began; with nothing
    to lose, there is no destructive step to review. Where the models are
    not of the scripts' head (a revision being written), or the database
    is not fresh after all, nothing is changed and the chain runs instead.
    """
    from solum_db_manage import chain, fresh

    # The models are of the shipped chain's head.
    if found.head != chain.HEAD:
        return False
    held.changing = True
    head = fresh.build_head(connection, resume=bool(found.built))
    if head is None:
        held.changing = False
        connection.rollback()
        return False
    # Renewed just before (register); a write here would come between
    # the build and its commit.
    held.verify(renew=False)
    connection.commit()
    LOG.info("Created the head schema %s directly: the database was "
             "empty, so no revision was walked.", head)
    return True


def stamp_reads(connection, purge):
    """The revisions recorded, for stamp. A corrupt version table is
    refused, with the repair, but by ``stamp --purge``, which empties it
    first (unless the table itself is wrong: no text column)."""
    from solum_db_manage import diagnose

    try:
        return set(db.current_heads(connection))
    except db.CorruptVersionTable as error:
        if purge and not error.retype:
            return set()
        found = diagnose.corrupt(connection, error)
        raise errors.SolumDBManageError(
            "stamp refused, nothing was changed: " + " ".join(found.lines()),
            exit_code=found.status) from None


def refuse_unknown_recorded(connection, recorded, held=None):
    """Alembic cannot read a revision its scripts lack (a pre-squash id,
    a newer release's): say what ``check`` says of it instead, with its
    exit status, before Alembic's bare "No such revision". ``held``: the
    lock this run holds (stamp), which is no sign of another run."""
    from solum_db_manage import chain, diagnose

    known = set(chain.current().revisions)
    if all(revision in known for revision in recorded):
        return
    found = diagnose.diagnose(
        connection, models=False, own_lock=held and held.token,
        previous=held and held.previous)
    prefix = "stamp refused, nothing was changed: " if held else ""
    if held and not found.repair:
        found.notes.append(
            f"'{PROG} stamp --purge REV' replaces what it records.")
    raise errors.SolumDBManageError(
        prefix + " ".join(found.lines()), exit_code=found.status)


def check_offline(config):
    if db.dialect_name(config.attributes["url"]) == "sqlite":
        raise errors.SolumDBManageError(
            "--sql cannot render upgrades or downgrades for SQLite: "
            "several steps rebuild tables, which needs the live schema; "
            "run the command without --sql")
