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

"""The names README's "Using it from Python" declares stable, in-process.

config.make_config, commands.check, commands.upgrade and the errors they
raise, as Solum's services and deployment tools call them.
"""

import io
import json

import pytest
import sqlalchemy as sa

from solum_db_manage import commands, config, errors

UNKNOWN = "ffffffffffff"


def test_check_then_upgrade_in_process(db_url, engine):
    out = io.StringIO()
    cfg = config.make_config(db_url, stdout=out)
    assert commands.check(cfg) == errors.EXIT_BEHIND       # empty
    assert out.getvalue().startswith("The database holds no Solum table")
    assert commands.upgrade(cfg, revision="head") is None
    out.truncate(0), out.seek(0)
    assert commands.check(cfg, as_json=True) == errors.EXIT_OK
    found = json.loads(out.getvalue())
    assert (found["format"], found["status"], found["state"]) == \
        (1, 0, "current")
    # Nothing to do is no error either.
    assert commands.upgrade(cfg) is None


def test_a_refusal_raises_with_its_exit_status(db_url, engine):
    cfg = config.make_config(db_url, stdout=io.StringIO())
    commands.upgrade(cfg)
    with engine.begin() as connection:
        connection.execute(sa.text(
            f"UPDATE alembic_version SET version_num = '{UNKNOWN}'"))
    assert commands.check(cfg) == errors.EXIT_NEWER
    with pytest.raises(errors.SolumDBManageError) as raised:
        commands.upgrade(cfg)
    assert raised.value.exit_code == errors.EXIT_NEWER
    assert str(raised.value).startswith("upgrade refused, nothing was "
                                        "changed:")
    assert UNKNOWN in str(raised.value)
    assert errors.upgrade_check_code(raised.value.exit_code) == \
        errors.UPGRADE_CHECK_FAILURE


def test_an_unreachable_server_raises_exit_status_1():
    cfg = config.make_config("mysql+pymysql://solum:s3cretpw@127.0.0.1:1/x",
                             stdout=io.StringIO())
    with pytest.raises(errors.SolumDBManageError) as raised:
        commands.check(cfg)
    assert raised.value.exit_code == errors.EXIT_ERROR
    assert str(raised.value).startswith("cannot connect to the database")
    assert "s3cretpw" not in str(raised.value)
