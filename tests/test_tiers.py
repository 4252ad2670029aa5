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
