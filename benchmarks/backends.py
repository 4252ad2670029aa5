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

"""The three database backends: scratch databases, cloning, the table-copy
baseline, and the SQL dialect bits the data generator needs.

Every database the benchmarks create is named ``solum_bench_<run>_<n>``
(SQLite: a file in a temporary directory) and dropped at the end; no
other database is touched.
"""

import os
import shutil
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# The tables the big-database benchmark fills, in foreign-key order.
DATA_TABLES = ("plan", "image", "assembly", "component")

_SERVER_URLS = {
    "mysql": ("SOLUM_BENCH_MYSQL_URL", "SOLUM_TEST_MYSQL_URL",
              "mysql+pymysql://root@127.0.0.1:3306/"),
    "postgresql": ("SOLUM_BENCH_POSTGRESQL_URL", "SOLUM_TEST_POSTGRESQL_URL",
                   "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
}


def _refused(error):
    text = str(error.orig if hasattr(error, "orig") else error).lower()
    return any(word in text for word in (
        "refused", "can't connect", "shutting down", "starting up",
        "server has gone away", "lost connection", "terminating"))


def _quote(text):
    return "'" + text.replace("'", "''") + "'"


class Backend:
    """One database server (or SQLite), and the databases made on it."""

    name = None
    label = None

    def __init__(self, run_id, workdir):
        self.run_id = run_id
        self.workdir = workdir
        self.created = []
        self._counter = 0

    # -- databases ---------------------------------------------------------

    def new_name(self, purpose):
        self._counter += 1
        return f"solum_bench_{self.run_id}_{purpose}{self._counter}"

    def create(self, purpose="db"):
        name = self.new_name(purpose)
        self._create(name)
        self.created.append(name)
        return name

    def drop(self, name):
        if name in self.created:
            self._drop(name)
            self.created.remove(name)

    def drop_all(self):
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as error:  # keep dropping the others
                print(f"could not drop {name}: {error}")

    def engine(self, name, **kwargs):
        return sa.create_engine(self.url(name), poolclass=NullPool, **kwargs)

    def execute(self, name, statements, autocommit=False):
        """Run SQL statements on a database, in one transaction."""
        kwargs = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
        engine = self.engine(name, **kwargs)
        try:
            with engine.begin() as connection:
                self.on_connect(connection)
                for statement in statements:
                    connection.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def on_connect(self, connection):
        """Session settings for the harness's own connections."""

    def scalar(self, name, statement):
        engine = self.engine(name)
        try:
            with engine.connect() as connection:
                return connection.exec_driver_sql(statement).scalar()
        finally:
            engine.dispose()

    def settle(self, name=None):
        """Let the server finish writing ``name`` before a timed step."""

    def load_session(self):
        """Session statements that speed up loading consistent rows."""
        return []

    # -- the baseline of the big-database benchmark ------------------------

    def copy_tables(self, name, tables=DATA_TABLES):
        """Copy each table once; return the seconds. Copies are dropped."""
        copies = [(table, f"bench_copy_{table}") for table in tables]
        engine = self.engine(name)
        try:
            with engine.connect() as connection:
                self.on_connect(connection)
                connection.commit()
                t0 = time.perf_counter()
                for table, copy in copies:
                    for statement in self.copy_sql(table, copy):
                        connection.exec_driver_sql(statement)
                connection.commit()
                seconds = time.perf_counter() - t0
                for _table, copy in copies:
                    connection.exec_driver_sql(f"DROP TABLE {copy}")
                connection.commit()
        finally:
            engine.dispose()
        return seconds

    # -- SQL for the data generator ---------------------------------------

    def cat(self, *parts):
        return "(" + " || ".join(parts) + ")"

    def num(self, expr):
        return f"CAST({expr} AS TEXT)"

    def mod(self, a, b):
        return f"mod({a}, {b})"

    def lit(self, text):
        return _quote(text)


class SQLite(Backend):
    name = "sqlite"
    label = "SQLite"

    def available(self):
        return True, ""

    def path(self, name):
        return os.path.join(self.workdir, name + ".sqlite")

    def url(self, name):
        return "sqlite:///" + self.path(name)

    def _create(self, name):
        open(self.path(name), "wb").close()

    def _drop(self, name):
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.remove(self.path(name) + suffix)
            except FileNotFoundError:
                pass

    def clone(self, source, purpose="work"):
        name = self.create(purpose)
        shutil.copyfile(self.path(source), self.path(name))
        return name

    def size_bytes(self, name):
        return os.path.getsize(self.path(name))

    def server_version(self):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (library)"

    def driver(self):
        import sqlite3

        return "sqlite3 (stdlib)", sqlite3.sqlite_version

    def settings(self):
        return {}

    def copy_sql(self, table, copy):
        return [f"CREATE TABLE {copy} AS SELECT * FROM {table}"]

    def identity_sql(self, database, tables):
        names = ", ".join(_quote(t) for t in tables)
        return (f"SELECT name, rootpage FROM sqlite_master WHERE type = "
                f"'table' AND name IN ({names})")

    def mod(self, a, b):
        return f"(({a}) % ({b}))"

    def uuid(self):
        return ("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || "
                "'-4' || substr(hex(randomblob(2)), 2) || '-a' || "
                "substr(hex(randomblob(2)), 2) || '-' || "
                "hex(randomblob(6)))")

    def ts(self, seconds):
        return (f"datetime('2015-03-01 00:00:00', '+' || ({seconds}) || "
                f"' seconds')")

    def repeat(self, text, count):
        # SQLite has no repeat(): k zero bytes in hex are k times '00'.
        return f"replace(hex(zeroblob({count})), '00', {text})"

    def insert_select(self, table, columns, exprs, first, last):
        return (f"INSERT INTO {table} ({', '.join(columns)}) "
                f"WITH RECURSIVE g(n) AS (SELECT {first} UNION ALL "
                f"SELECT n + 1 FROM g WHERE n < {last}) "
                f"SELECT {', '.join(exprs)} FROM g")

    n = "g.n"

    def after_load(self, name, counts):
        pass


class _Server(Backend):
    """A backend behind a server: databases are made through an admin URL."""

    def __init__(self, run_id, workdir):
        super().__init__(run_id, workdir)
        variables = _SERVER_URLS[self.name]
        self.server_url = make_url(
            os.environ.get(variables[0]) or os.environ.get(variables[1])
            or variables[2])

    def url(self, name):
        return self.server_url.set(database=name).render_as_string(
            hide_password=False)

    def admin(self, statements, wait=120):
        """Run statements on the server's admin database, autocommitted.

        The servers are shared: if one is restarting, wait for it.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._admin(statements)
            except sa.exc.OperationalError as error:
                if time.monotonic() > deadline or not _refused(error):
                    raise
                time.sleep(2)

    def _admin(self, statements):
        engine = sa.create_engine(self.server_url, poolclass=NullPool,
                                  isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                results = []
                for statement in statements:
                    result = connection.exec_driver_sql(statement)
                    results.append(result.fetchall() if result.returns_rows
                                   else None)
                return results
        finally:
            engine.dispose()

    def available(self):
        try:
            self._admin(["SELECT 1"])
        except Exception as error:
            first = str(error).strip().splitlines()[0]
            return False, f"{self.server_url.render_as_string()}: {first}"
        return True, ""


class MySQL(_Server):
    name = "mysql"
    label = "MariaDB"

    def _create(self, name):
        # utf8mb4, as the README asks of Solum's databases.
        self.admin([f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                    f"COLLATE utf8mb4_general_ci"])

    def _drop(self, name):
        # A killed client's statement may still run on the server: end
        # the sessions on this database (ours: its name is unique) first.
        sessions = self.admin([
            f"SELECT id FROM information_schema.processlist WHERE db = "
            f"{_quote(name)} AND id <> CONNECTION_ID()"])[0]
        for (session,) in sessions:
            try:
                self.admin([f"KILL {int(session)}"])
            except Exception:  # it ended meanwhile
                pass
        self.admin([f"DROP DATABASE IF EXISTS {name}"])

    def on_connect(self, connection):
        connection.exec_driver_sql("SET SESSION sql_mode = 'TRADITIONAL'")

    def clone(self, source, purpose="work"):
        """The same tables, keys, foreign keys and rows, in a new database."""
        name = self.create(purpose)
        engine = self.engine(source)
        try:
            with engine.connect() as connection:
                tables = [row[0] for row in connection.exec_driver_sql(
                    "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")]
                creates = [connection.exec_driver_sql(
                    f"SHOW CREATE TABLE `{table}`").fetchone()[1]
                    for table in tables]
        finally:
            engine.dispose()
        statements = ["SET SESSION foreign_key_checks = 0",
                      "SET SESSION unique_checks = 0"]
        statements += creates
        statements += [f"INSERT INTO `{table}` SELECT * FROM "
                       f"`{source}`.`{table}`" for table in tables]
        self.execute(name, statements)
        return name

    def size_bytes(self, name):
        return int(self.scalar(name, (
            "SELECT COALESCE(SUM(data_length + index_length), 0) FROM "
            "information_schema.tables WHERE table_schema = DATABASE()")))

    def settle(self, name=None):
        """Write the database's dirty pages out before a timed step.

        MariaDB's page cleaner leaves dirty pages alone below
        innodb_max_dirty_pages_pct, so a clone's pages would be written
        back during whichever timed step comes next. FLUSH TABLES ... FOR
        EXPORT writes out those of the named tables only.
        """
        if name is None:
            return
        engine = self.engine(name)
        try:
            with engine.connect() as connection:
                tables = [row[0] for row in connection.exec_driver_sql(
                    "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")]
                if tables:
                    connection.exec_driver_sql(
                        "FLUSH TABLES " + ", ".join(
                            f"`{t}`" for t in tables) + " FOR EXPORT")
                    connection.exec_driver_sql("UNLOCK TABLES")
        finally:
            engine.dispose()

    def server_version(self):
        return self.admin(["SELECT VERSION()"])[0][0][0]

    def driver(self):
        import pymysql

        return "PyMySQL", pymysql.__version__

    def settings(self):
        rows = self.admin([
            "SELECT @@innodb_buffer_pool_size, "
            "@@innodb_flush_log_at_trx_commit, @@character_set_server, "
            "@@alter_algorithm"])[0][0]
        return {
            "innodb_buffer_pool_size": f"{int(rows[0]) // 2**20} MiB",
            "innodb_flush_log_at_trx_commit": rows[1],
            "character_set_server": rows[2],
            "alter_algorithm": rows[3],
        }

    def copy_sql(self, table, copy):
        return [f"CREATE TABLE {copy} LIKE {table}",
                f"INSERT INTO {copy} SELECT * FROM {table}"]

    def identity_sql(self, database, tables):
        names = ", ".join(_quote(f"{database}/{t}") for t in tables)
        return ("SELECT SUBSTRING_INDEX(NAME, '/', -1), TABLE_ID FROM "
                f"information_schema.INNODB_SYS_TABLES WHERE NAME IN "
                f"({names})")

    def cat(self, *parts):
        return "CONCAT(" + ", ".join(parts) + ")"

    def num(self, expr):
        return f"CAST({expr} AS CHAR)"

    def uuid(self):
        return "UUID()"

    def ts(self, seconds):
        return f"TIMESTAMPADD(SECOND, {seconds}, '2015-03-01 00:00:00')"

    def repeat(self, text, count):
        return f"REPEAT({text}, {count})"

    def insert_select(self, table, columns, exprs, first, last):
        # MariaDB's SEQUENCE engine: seq_1_to_N is a table of 1..N.
        return (f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(exprs)} FROM seq_{first}_to_{last} g")

    n = "g.seq"

    def load_session(self):
        return ["SET SESSION foreign_key_checks = 0",
                "SET SESSION unique_checks = 0"]

    def after_load(self, name, counts):
        self.execute(name, [f"ANALYZE TABLE {table}" for table in counts])


class PostgreSQL(_Server):
    name = "postgresql"
    label = "PostgreSQL"

    def _create(self, name):
        self.admin([f"CREATE DATABASE {name} ENCODING 'UTF8'"])

    def _drop(self, name):
        # FORCE ends the sessions still on it (a killed client's
        # statement may still run on the server).
        self.admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])

    def clone(self, source, purpose="work"):
        name = self.new_name(purpose)
        self.admin([f"CREATE DATABASE {name} TEMPLATE {source}"])
        self.created.append(name)
        return name

    def size_bytes(self, name):
        return int(self.scalar(name, "SELECT pg_database_size("
                                     "current_database())"))

    def settle(self, name=None):
        self.admin(["CHECKPOINT"])

    def server_version(self):
        return "PostgreSQL " + self.admin(["SHOW server_version"])[0][0][0]

    def driver(self):
        import psycopg

        return "psycopg", psycopg.__version__

    def settings(self):
        result = {}
        for setting in ("shared_buffers", "work_mem", "max_wal_size",
                        "synchronous_commit"):
            result[setting] = self.admin([f"SHOW {setting}"])[0][0][0]
        return result

    def copy_sql(self, table, copy):
        return [f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)",
                f"INSERT INTO {copy} SELECT * FROM {table}"]

    def identity_sql(self, database, tables):
        names = ", ".join(_quote(t) for t in tables)
        return ("SELECT relname, relfilenode FROM pg_class WHERE relkind = "
                f"'r' AND relnamespace = 'public'::regnamespace AND relname "
                f"IN ({names})")

    def uuid(self):
        return "CAST(gen_random_uuid() AS TEXT)"

    def ts(self, seconds):
        return (f"(TIMESTAMP '2015-03-01 00:00:00' + ({seconds}) * "
                f"INTERVAL '1 second')")

    def repeat(self, text, count):
        return f"repeat({text}, {count})"

    def insert_select(self, table, columns, exprs, first, last):
        return (f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(exprs)} FROM "
                f"generate_series({first}, {last}) AS g(n)")

    n = "g.n"

    def load_session(self):
        # Skip the foreign-key triggers while loading consistent rows.
        return ["SET session_replication_role = replica"]

    def after_load(self, name, counts):
        statements = [
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST({count}, 1))" for table, count in counts.items()]
        # Frozen, with hint bits set and statistics, as a database that
        # has lived a while is: no timed step pays for the bulk load.
        statements += [f"VACUUM (FREEZE, ANALYZE) {table}"
                       for table in counts]
        self.execute(name, statements, autocommit=True)


BACKENDS = {"sqlite": SQLite, "mysql": MySQL, "postgresql": PostgreSQL}


def make(names, run_id, workdir):
    """The requested backends; those whose server does not answer are
    returned apart with the reason."""
    ready, missing = [], {}
    for name in names:
        backend = BACKENDS[name](run_id, workdir)
        ok, reason = backend.available()
        if ok:
            ready.append(backend)
        else:
            missing[name] = reason
    return ready, missing
