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

"""The tiers partition the suite: every test is in exactly one of unit,
sqlite, mysql, postgresql, galera (conftest.py marks them; tox selects
them with -m). A test may be ``slow`` besides."""

from tests.helpers import TIERS


def test_every_collected_test_is_in_exactly_one_tier(request):
    """Of the tests this run collected: the whole suite, as CI runs it."""
    items = request.session.items
    assert request.node in items
    wrong = {}
    for item in items:
        tiers = sorted({mark.name for mark in item.iter_markers()
                        if mark.name in TIERS})
        if len(tiers) != 1:
            wrong[item.nodeid] = tiers
    assert not wrong, wrong


def test_the_tiers_are_registered(pytestconfig):
    registered = {line.split(":")[0]
                  for line in pytestconfig.getini("markers")}
    assert registered >= {*TIERS, "slow"}
