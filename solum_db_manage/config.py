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

"""The one config type every command takes: :func:`make_config`.

A :class:`Config` holds the connection URL, the stdout results go to, and
the settings the commands and env.py read in ``config.attributes`` (the
lock's timeouts, the connection, hooks). To Alembic it is an Alembic
``Config`` of our scripts: its commands and ``ScriptDirectory.from_config``
are given this object, and what Alembic reads of it beyond the above (its
options) comes from an ``alembic.config.Config`` built on first use,
sharing these attributes. The commands that run no script (``version``,
``check`` below head, ``upgrade`` of an empty database) never import
Alembic.
"""

import sys

from solum_db_manage import output, scripts


def make_config(url, stdout=None, **settings):
    """The config of a command on the database at ``url`` (None for the
    commands that read only the scripts); ``settings`` (lock_timeout,
    lock_lease, ddl_lock_timeout...) go into its attributes."""
    return Config(url, stdout=stdout, **settings)


class Config:
    """See the module: our settings, and Alembic's Config on demand."""

    def __init__(self, url, stdout=None, **settings):
        self.stdout = stdout or sys.stdout
        # The URL goes through attributes, not the ini options: those
        # interpolate "%", which URL-encoded passwords contain.
        self.attributes = {"url": url, **settings}
        self._alembic = None

    def print_stdout(self, text, *arg):
        """Write one line to stdout, as Alembic's Config.print_stdout
        (whose place this takes for Alembic's commands too)."""
        output.write_result(self.stdout, str(text) % arg if arg else str(text))

    @property
    def alembic(self):
        """The ``alembic.config.Config``, sharing stdout and attributes."""
        if self._alembic is None:
            self._alembic = scripts.alembic_config(self.stdout,
                                                   self.attributes)
        return self._alembic

    def __getattr__(self, name):
        # Called only for what this object lacks: Alembic's options and
        # methods (get_main_option, cmd_opts, messaging_opts...).
        if name.startswith("__") or name == "_alembic":
            raise AttributeError(name)
        return getattr(self.alembic, name)
