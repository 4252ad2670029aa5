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
