"""Benchmarks of solum-db-manage (issue 5): start-up, fresh installs, big
databases, and read-only commands on big databases.

Run ``python -m benchmarks`` (or ``tox -e bench``); ``--quick`` is the
smoke mode CI can afford, ``--write doc/source/benchmarks.rst`` publishes
the results. Benchmarks are not tests: they measure and report, and only
fail when something they run fails.

Every figure is the median of ``--repeat`` runs, and every comparison is a
ratio against a baseline measured in the same invocation, the runs
interleaved (baseline, candidate, baseline, candidate, ...).
"""
