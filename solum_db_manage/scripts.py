"""The migration scripts: where they are, and loading them through Alembic.

Alembic is imported only by :func:`alembic_config` and
:func:`script_directory`: the commands that run no script never load it.
"""

SCRIPT_LOCATION = "solum_db_manage:alembic_migrations"


def scripts_path():
    """The directory of the migration scripts (SCRIPT_LOCATION)."""
    import importlib
    import os

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
