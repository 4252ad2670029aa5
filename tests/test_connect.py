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

"""How the tool connects: what each connection costs, what it keeps."""

import ssl

import pymysql
import pytest

from solum_db_manage import db


@pytest.mark.parametrize("backend", ["mysql"])
def test_pymysql_connections_share_one_tls_context(
        backend, db_url, monkeypatch):
    """PyMySQL 1.2 builds a default SSLContext for every connection that
    gives no ssl option (20 ms each); the tool's connections share one,
    and still work."""
    made = []
    real = ssl.create_default_context

    def counted(*args, **kwargs):
        made.append(args or kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    monkeypatch.setattr(db, "_SHARED_TLS", {})
    for _ in range(3):
        engine = db.create_engine(db_url)
        try:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
                # The session is the tool's: strict mode.
                mode = connection.exec_driver_sql(
                    "SELECT @@SESSION.sql_mode").scalar()
                assert "STRICT_TRANS_TABLES" in mode
        finally:
            engine.dispose()
    preferred_tls = pymysql.VERSION >= (1, 2)
    assert len(made) == (1 if preferred_tls else 0)


def test_explicit_tls_options_are_not_shared():
    """A context the user configured is the connection's own."""
    connection_class = db._pymysql_connection_class()
    own = ssl.create_default_context()
    probe = connection_class.__new__(connection_class)
    assert probe._create_ssl_ctx(own) is own
    built = probe._create_ssl_ctx({"verify_mode": False})
    assert built is not db._SHARED_TLS.get("default")
    assert built.verify_mode == ssl.CERT_NONE
