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

"""oslo.db's ``[database]`` options, as this tool reads them.

An operator's ``solum.conf`` carries the options of oslo.db, the library
Solum's services connect with. Each one is declared here under oslo.db's
name, type, meaning and default (oslo_db/options.py, oslo.db 18), so the
same file means the same to this tool: those that shape a migration
session are honoured (:data:`HONOURED`), every other one is accepted and
left unused. Two defaults are this tool's, where oslo.db's would weaken a
guarantee (:data:`DEFAULTS`: the Galera sync wait when unset, and
``max_retries``); an explicit value still wins, with a WARNING where it
weakens one (:func:`from_conf`).

This module declares the options itself rather than importing oslo.db:
see the README ("oslo.db's [database] options") for why.
"""

import collections
import functools
import logging

LOG = logging.getLogger("solum_db_manage")

# The options that shape a migration session; the others are accepted.
HONOURED = ("mysql_sql_mode", "mysql_wsrep_sync_wait",
            "connection_parameters", "connection_debug", "max_retries",
            "retry_interval", "connection_recycle_time")

# sql_mode words that make MySQL/MariaDB fail a statement on a value that
# does not fit instead of cutting it (TRADITIONAL includes both STRICT_*;
# every Solum table is InnoDB, so STRICT_TRANS_TABLES covers them).
_STRICT_MODES = {"TRADITIONAL", "STRICT_ALL_TABLES", "STRICT_TRANS_TABLES"}

# wsrep_sync_wait is a bit mask; 1 makes reads wait for the cluster.
_SYNC_READS = 1


class DatabaseSettings(collections.namedtuple(
        "DatabaseSettings", HONOURED,
        defaults=("TRADITIONAL", None, "", 0, 0, 10, 3600))):
    """The ``[database]`` values a migration session is made with.

    The defaults are this tool's: ``mysql_wsrep_sync_wait=None`` means 1
    on a Galera node (oslo.db leaves the server's value), and
    ``max_retries=0`` means one attempt (oslo.db: 10 attempts, 10 s apart).
    A named tuple, not a dataclass: dataclasses imports inspect, which
    ``-h`` cannot afford.
    """

    __slots__ = ()

    def attempts(self):
        """How many times to try to connect; None for no limit."""
        return None if self.max_retries == -1 else max(1, self.max_retries)

    def engine_log_level(self):
        """The level of the ``sqlalchemy.engine`` logger, as oslo.db maps
        ``connection_debug``: 100 every statement and row, 50 to 99 the
        statements, below 50 warnings only."""
        if self.connection_debug >= 100:
            return logging.DEBUG
        if self.connection_debug >= 50:
            return logging.INFO
        return logging.WARNING

    def sets_sync_wait(self, wsrep_on):
        """The wsrep_sync_wait a session sets (None: leave the server's),
        given whether the server is a Galera node (``wsrep_on``)."""
        if self.mysql_wsrep_sync_wait is not None:
            return self.mysql_wsrep_sync_wait
        return _SYNC_READS if wsrep_on else None


DEFAULTS = DatabaseSettings()

# Where this tool's default is not oslo.db's, and why (README, sample).
_OWN_DEFAULT = {
    "mysql_wsrep_sync_wait": (
        "Unset, this tool sets 1 on a Galera node (wsrep_on=ON) and leaves "
        "other servers alone: the migration lock and the diagnosis must "
        "read what another node has just committed (oslo.db leaves the "
        "server's value when unset). A value without the bit 1 (reads) "
        "is logged as a WARNING."),
    "max_retries": (
        "This tool's default is 0, one attempt, so that a run against an "
        "unreachable server ends at once (oslo.db's default is 10, with "
        "retry_interval 10: more than a minute and a half). -1 is logged "
        "as a WARNING: the run then waits for ever."),
}

# The options accepted and unused: (oslo.config type, name, oslo.db's
# default, what oslo.db does with it, why a migration does without).
_UNUSED = (
    ("BoolOpt", "sqlite_synchronous", True,
     "Whether SQLite writes synchronously.",
     "SQLite keeps its default (synchronous) here."),
    ("StrOpt", "backend", "sqlalchemy", "The database back end.",
     "only SQLAlchemy exists."),
    ("StrOpt", "slave_connection", None,
     "The connection URL of a read replica.",
     "migrations run on the primary, never a replica."),
    ("StrOpt", "asyncio_connection", None,
     "The connection URL for asyncio.",
     "migrations run on [database] connection."),
    ("StrOpt", "asyncio_slave_connection", None,
     "The asyncio connection URL of a read replica.",
     "migrations run on the primary, never a replica."),
    ("BoolOpt", "synchronous_reader", True,
     "Whether readers must see what writers committed, replicas lagging.",
     "migrations run on the primary, never a replica."),
    ("IntOpt", "max_pool_size", 5, "The size of the connection pool.",
     "a run opens at most two connections, unpooled."),
    ("IntOpt", "max_overflow", 50, "Connections beyond the pool's size.",
     "a run opens at most two connections, unpooled."),
    ("BoolOpt", "connection_trace", False,
     "Whether to add Python stack traces to SQL as comments.",
     "SQL goes unannotated; see connection_debug."),
    ("IntOpt", "pool_timeout", None,
     "Seconds to wait for a pooled connection.",
     "a run opens at most two connections, unpooled."),
    ("BoolOpt", "use_db_reconnect", False,
     "Whether to reconnect on a lost connection.",
     "a migration never silently reconnects."),
    ("IntOpt", "db_retry_interval", 1,
     "Seconds between retries of a transaction.",
     "a migration step is never retried."),
    ("BoolOpt", "db_inc_retry_interval", True,
     "Whether the interval between retries of a transaction grows.",
     "a migration step is never retried."),
    ("IntOpt", "db_max_retry_interval", 10,
     "The longest interval between retries of a transaction.",
     "a migration step is never retried."),
    ("IntOpt", "db_max_retries", 20,
     "How many times to retry a transaction after a deadlock or a lost "
     "connection.",
     "a migration step is never retried."),
)


@functools.cache
def database_opts():
    """Every oslo.db ``[database]`` option but ``connection`` (which the
    command line declares, as --database-connection too): those honoured
    first, then those accepted."""
    from oslo_config import cfg

    honoured = (
        cfg.StrOpt(
            "mysql_sql_mode", default=DEFAULTS.mysql_sql_mode,
            help="The sql_mode of MySQL/MariaDB sessions, set on each "
                 "connection over the server's. Set it to no value to keep "
                 "the server's sql_mode. A mode that is not strict "
                 "(TRADITIONAL, STRICT_TRANS_TABLES or STRICT_ALL_TABLES), "
                 "or no value, is logged as a WARNING: then a change that "
                 "narrows a column cuts the values that do not fit instead "
                 "of failing, beyond what the data-loss review reports."),
        cfg.IntOpt(
            "mysql_wsrep_sync_wait", default=DEFAULTS.mysql_wsrep_sync_wait,
            help="The wsrep_sync_wait (Galera causality checks) of "
                 "MySQL/MariaDB sessions, set where the server has that "
                 "variable. " + _OWN_DEFAULT["mysql_wsrep_sync_wait"]),
        cfg.StrOpt(
            "connection_parameters", default=DEFAULTS.connection_parameters,
            help="Parameters added to the connection URL's query string "
                 "(param1=value1&param2=value2), handed to the database "
                 "driver: connect_timeout=5, for example."),
        cfg.IntOpt(
            "connection_debug", default=DEFAULTS.connection_debug, min=0,
            max=100,
            help="How much SQL to log, as oslo.db: 0 none, 50 every "
                 "statement (INFO), 100 every statement and result row "
                 "(DEBUG). Passwords are masked there too."),
        cfg.IntOpt(
            "max_retries", default=DEFAULTS.max_retries, min=-1,
            help="How many times to try to connect, retry_interval apart, "
                 "while the server refuses connections or is starting up "
                 "(a wrong password or a missing database is not retried); "
                 "-1 for no limit. " + _OWN_DEFAULT["max_retries"]),
        cfg.IntOpt(
            "retry_interval", default=DEFAULTS.retry_interval, min=0,
            help="Seconds between two attempts to connect (max_retries)."),
        cfg.IntOpt(
            "connection_recycle_time",
            default=DEFAULTS.connection_recycle_time,
            help="Seconds after which a connection is replaced the next "
                 "time it is taken from the pool (SQLAlchemy's "
                 "pool_recycle). This tool does not pool connections, so "
                 "none is ever taken twice."),
    )
    unused = tuple(
        getattr(cfg, kind)(
            name, default=default, secret=name.endswith("connection"),
            help=f"{does} Accepted for oslo.db's sake; solum-db-manage does "
                 f"not use it: {why}")
        for kind, name, default, does, why in _UNUSED)
    return honoured + unused


def from_conf(conf):
    """The :class:`DatabaseSettings` of a parsed ConfigOpts (with
    :func:`database_opts` registered in ``[database]``), logging a
    WARNING for each value that weakens a guarantee of this tool."""
    group = conf.database
    settings = DatabaseSettings(**{name: group[name] for name in HONOURED})
    for warning in weakened(settings):
        LOG.warning("%s", warning)
    return settings


def weakened(settings):
    """What each value of ``settings`` gives up of this tool's guarantees,
    one line each."""
    lines = []
    mode = settings.mysql_sql_mode
    words = {word.strip().upper() for word in (mode or "").split(",")}
    if not words & _STRICT_MODES:
        kept = (f"mysql_sql_mode = {mode} is not strict" if mode else
                "mysql_sql_mode is empty: sessions keep the server's "
                "sql_mode, which this tool does not check")
        lines.append(
            f"{kept}; on MySQL/MariaDB a schema change that narrows a "
            f"column now cuts the values that do not fit instead of "
            f"failing, so data can be lost beyond what the data-loss "
            f"review reports (strict modes: TRADITIONAL, "
            f"STRICT_TRANS_TABLES, STRICT_ALL_TABLES)")
    wait = settings.mysql_wsrep_sync_wait
    if wait is not None and not wait & _SYNC_READS:
        lines.append(
            f"mysql_wsrep_sync_wait = {wait} leaves out 1 (reads): on a "
            f"Galera cluster the migration lock and the diagnosis may "
            f"read a node that has not yet applied what another node "
            f"committed, such as another run's lock or a table it just "
            f"created")
    if settings.max_retries == -1:
        lines.append(
            "max_retries = -1: a run waits for ever for a database server "
            "that does not answer, instead of failing in bounded time")
    return lines
