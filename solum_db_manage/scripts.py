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

"""The migration scripts: where they are, loading them through Alembic,
Alembic's failures to read them, and the chain they form.

Alembic is imported only by :func:`alembic_config` and
:func:`script_directory`: the commands that run no script never load it.
Every call into Alembic that reads the scripts or a revision runs in
:func:`alembic_errors`, which turns Alembic's failures (a revision it
cannot find or parse, a script that does not load) into our errors.

The chain (:func:`current_chain`: its revisions, head, and the tables and
columns each revision leaves) is read from chain_data.py, generated from
the scripts, without Alembic; where the scripts are not those it was
generated from (a developer's new revision), they are walked instead.
"""

import contextlib
import functools
import logging
import os

from solum_db_manage import chain_data, errors, version_table

LOG = logging.getLogger("solum_db_manage")

SCRIPT_LOCATION = "solum_db_manage:alembic_migrations"


def scripts_path():
    """The directory of the migration scripts (SCRIPT_LOCATION)."""
    import importlib

    package, colon, path = SCRIPT_LOCATION.partition(":")
    if not colon or os.sep in package:
        return SCRIPT_LOCATION
    root = os.path.dirname(importlib.import_module(package).__file__)
    return os.path.join(root, *path.split("/"))


def alembic_config(stdout, attributes):
    """Alembic's Config of our scripts, writing to ``stdout``, whose
    attributes dict is ``attributes`` itself (not a copy): what env.py
    reads (see config.py)."""
    from alembic.config import Config

    alembic = Config(stdout=stdout)
    alembic.set_main_option("script_location", SCRIPT_LOCATION)
    # Config.attributes is computed once and cached on the instance.
    alembic.attributes = attributes
    return alembic


def script_directory(config=None):
    """The migration scripts, loaded through Alembic, from ``config`` (one
    of config.make_config's) or from SCRIPT_LOCATION alone."""
    import sys

    from alembic.script import ScriptDirectory

    if config is None:
        config = alembic_config(sys.stdout, {})
    return ScriptDirectory.from_config(config)


class InvalidRevision(errors.SolumDBManageError):
    """A revision or range Alembic cannot find, resolve or parse."""


class BrokenScript(errors.SolumDBManageError):
    """A migration script in versions/ that does not load."""


# What Alembic's revision parser raises instead of explaining (it asserts,
# indexes, unpacks).
_PARSER_ERRORS = (AssertionError, ValueError, KeyError, AttributeError,
                  TypeError)


@contextlib.contextmanager
def alembic_errors():
    """Around a call into Alembic: its failures as our errors.

    A script that does not load is named (BrokenScript); a revision
    Alembic cannot read, as its parser's error or its own words
    (InvalidRevision). A UnicodeError is left to main() (bytes of the
    command line that are not text), as is any other error.
    """
    try:
        yield
    except errors.SolumDBManageError:
        raise
    except Exception as error:
        message = broken_script(error, scripts_path())
        if message:
            raise BrokenScript(message) from error
        if isinstance(error, UnicodeError):
            raise
        if isinstance(error, _PARSER_ERRORS):
            text = " ".join(str(error).split())
            raise InvalidRevision(
                "invalid revision or range: Alembic cannot read it ("
                + (f"{type(error).__name__}: {text}" if text
                   else type(error).__name__) + ")") from error
        if not type(error).__module__.startswith("alembic"):
            raise
        from alembic.script.revision import ResolutionError

        # Alembic words every failed lookup "Can't locate revision",
        # even an ambiguous partial id; the cause says which it was.
        if isinstance(error.__cause__, ResolutionError):
            raise InvalidRevision(str(error.__cause__)) from error
        raise InvalidRevision(str(error)) from error


def inside(path, directory):
    """True if ``path`` is ``directory`` or lies under it."""
    return path == directory or path.startswith(directory + os.sep)


def load_failure(error):
    """What went wrong loading a script, in a few words."""
    if isinstance(error, SyntaxError):
        where = f", line {error.lineno}" if error.lineno else ""
        return (f"does not compile ({type(error).__name__}: {error.msg}"
                f"{where})")
    text = " ".join(str(error).split())[:200]
    return f"fails when loaded ({type(error).__name__}: {text})"


def broken_script(error, location):
    """The message for an error raised loading a script of ``location``.

    None unless the error is a script's: a SyntaxError in a file there,
    or an error raised by the top level of one (its import).
    """
    versions = os.path.realpath(os.path.join(location, "versions"))
    path = None
    if isinstance(error, SyntaxError) and error.filename:
        path = error.filename
    else:
        frame = error.__traceback__
        while frame is not None:
            code = frame.tb_frame.f_code
            if code.co_name == "<module>" and inside(
                    os.path.realpath(code.co_filename), versions):
                path = code.co_filename
            frame = frame.tb_next
    if not path or not inside(os.path.realpath(path), versions):
        return None
    return (f"the migration script {path} {load_failure(error)}; every "
            f"command loads every script in {versions}: fix that file or "
            f"move it away (solum-db-manage did not write it and leaves it "
            f"alone)")


# --- the chain the scripts form ---------------------------------------------

class Chain:
    """The head, the revisions root first, and the schema each leaves."""

    def __init__(self, head, revisions, fingerprints):
        self.head = head
        self.revisions = list(revisions)
        # [(revision, {table: frozenset(column names)})], root first.
        self.fingerprints = fingerprints

    def pending(self, recorded):
        """The revisions an upgrade to head runs from ``recorded``."""
        return self.revisions[self.revisions.index(recorded) + 1:]


@functools.cache
def shipped_chain():
    """The chain as chain_data.py describes it."""
    fingerprints = []
    tables = {}
    for revision, _, changes in chain_data.CHAIN:
        tables = dict(tables)
        for table, columns in changes.items():
            if columns is None:
                tables.pop(table, None)
            else:
                tables[table] = frozenset(columns)
        fingerprints.append((revision, tables))
    return Chain(chain_data.HEAD,
                 [revision for revision, _, _ in chain_data.CHAIN],
                 fingerprints)


def current_chain():
    """The chain of the migration scripts in use.

    The shipped data, unless the scripts are not those it was generated
    from (by file name): then they are walked, once a process.
    """
    directory = os.path.join(scripts_path(), "versions")
    names = script_names(directory)
    if names == frozenset(chain_data.SCRIPTS):
        return shipped_chain()
    return _walked(directory, names)


@functools.cache
def _walked(directory, names):
    LOG.warning(
        "solum_db_manage/chain_data.py does not describe the migration "
        "scripts (a revision added or removed?); walking them instead. Run "
        "'python -m solum_db_manage.chain --write'.")
    head, walked = walk_chain()
    return Chain(head, [revision for revision, _, _ in walked],
                 [(revision, tables) for revision, _, tables in walked])


def script_names(directory=None):
    """The file names of the migration scripts (versions/*.py)."""
    directory = directory or os.path.join(scripts_path(), "versions")
    return frozenset(name for name in os.listdir(directory)
                     if name.endswith(".py"))


def walk_chain():
    """(head, [(revision, down_revision, fingerprint)]): the scripts walked
    with Alembic on an in-memory SQLite database, root first."""
    import sys

    import sqlalchemy as sa
    from alembic import command

    config = alembic_config(sys.stdout, {"url": "sqlite://"})
    script = script_directory(config)
    with alembic_errors():
        down = {rev.revision: rev.down_revision
                for rev in script.walk_revisions()}
    if len(script.get_heads()) != 1 or any(
            isinstance(parent, tuple) for parent in down.values()):
        raise RuntimeError("the chain is not one straight line")
    walked = []

    def record(ctx, step, heads, run_args):
        revision = step.up_revision_id
        walked.append((revision, down[revision],
                       version_table.live_fingerprint(ctx.connection)))

    config.attributes["after_revision"] = record
    engine = sa.create_engine("sqlite://")
    quiet = logging.getLogger("alembic")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection, alembic_errors():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        quiet.setLevel(level)
        engine.dispose()
    return script.get_current_head(), walked
