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

"""The baseline of start-up and shell comparisons: the plain Alembic CLI.

solum-db-manage's env.py takes its URL and connection from
``config.attributes``, which the ``alembic`` command cannot fill. The
baseline therefore gets a temporary script directory of its own: an
``alembic.ini`` naming it and the URL, and an env.py shaped like
Alembic's generic template (engine from the ini, logging from the ini,
one transaction per revision), while ``version_locations`` points at this
package's versions directory: both CLIs walk the same revision files.
"""

import os
import tempfile

from benchmarks import common

_ENV_PY = '''\
"""Alembic's generic online env.py, configured from alembic.ini."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, event, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def _traditional(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
    cursor.close()


def run_migrations_online():
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.", poolclass=pool.NullPool)
    if engine.dialect.name == "mysql":
        # The SQL mode solum-db-manage's sessions use, so both walks
        # run the same statements the same way.
        event.listen(engine, "connect", _traditional)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None,
                          transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline mode is not part of the benchmark")
run_migrations_online()
'''

_INI = """\
[alembic]
script_location = {script_location}
version_locations = {versions}
sqlalchemy.url = {url}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %%(asctime)s.%%(msecs)03d %%(levelname)-5.5s [%%(name)s] %%(message)s
datefmt = %%Y-%%m-%%d %%H:%%M:%%S
"""


def versions_dir():
    """This package's versions directory, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("solum_db_manage")
    package = os.path.dirname(spec.origin)
    return os.path.join(package, "alembic_migrations", "versions")


class PlainAlembic:
    """A temporary alembic.ini + env.py for one database URL at a time."""

    def __init__(self, workdir):
        self.directory = tempfile.mkdtemp(prefix="plain_alembic_",
                                          dir=workdir)
        self.scripts = os.path.join(self.directory, "env")
        os.makedirs(self.scripts)
        with open(os.path.join(self.scripts, "env.py"), "w") as f:
            f.write(_ENV_PY)
        self._inis = {}

    def ini(self, url):
        """The path of an alembic.ini for ``url``."""
        if url not in self._inis:
            path = os.path.join(self.directory,
                                f"alembic{len(self._inis)}.ini")
            with open(path, "w") as f:
                f.write(_INI.format(script_location=self.scripts,
                                    versions=versions_dir(),
                                    url=url.replace("%", "%%")))
            self._inis[url] = path
        return self._inis[url]

    def argv(self, url, *args):
        return common.script("alembic") + ["-c", self.ini(url), *args]
