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

"""oslo.upgradecheck's codes for check's states (errors.upgrade_check_code).

A ``solum-status upgrade check`` (Solum's own package) maps check's exit
status to 0 success, 1 warning, 2 failure: a database behind is what the
upgrade is for; one that ``upgrade`` would refuse is a failure.
"""

import pytest
import sqlalchemy as sa

from solum_db_manage import errors

# Every exit status check can give (README: Exit status), and its code.
CODES = {
    0: 0,      # at head, matching the models
    3: 0,      # upgrade needed: what the upgrade does
    7: 1,      # a migration running (upgrade waits) or interrupted
    4: 2,      # newer than this code: upgrade refuses
    5: 2,      # untracked: upgrade refuses until stamped
    6: 2,      # not its revision's schema: upgrade refuses
    1: 2,      # could not be read (unreachable server, ...)
    2: 2,      # usage error
    130: 2,    # interrupted: nothing was found
    143: 2,
}


@pytest.mark.parametrize("status", sorted(CODES))
def test_every_exit_status_has_its_code(status):
    assert errors.upgrade_check_code(status) == CODES[status]


def test_codes_are_oslo_upgradechecks():
    assert (errors.UPGRADE_CHECK_SUCCESS, errors.UPGRADE_CHECK_WARNING,
            errors.UPGRADE_CHECK_FAILURE) == (0, 1, 2)


def _code(solum, url):
    result = solum("check", url=url)
    assert "Traceback" not in result.err
    return result.code, errors.upgrade_check_code(result.code)


def test_the_states_of_a_real_database(db_url, engine, solum):
    assert _code(solum, db_url) == (3, 0)          # empty: a fresh install
    assert solum("upgrade", "kilo", url=db_url).code == 0
    assert _code(solum, db_url) == (3, 0)          # behind
    assert solum("upgrade", "head", url=db_url).code == 0
    assert _code(solum, db_url) == (0, 0)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    assert _code(solum, db_url) == (4, 2)          # newer than this code
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))
    assert _code(solum, db_url) == (5, 2)          # untracked
