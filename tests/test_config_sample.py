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

"""The checked-in sample configuration is what the generator makes now."""

import pathlib
import re

from oslo_config import generator

from solum_db_manage import db_options, options

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR_CONFIG = ROOT / "etc" / "oslo-config-generator" / \
    "solum-db-manage.conf"
SAMPLE = ROOT / "etc" / "solum.conf.sample"


OWN_NAMESPACE = "solum_db_manage"


def _blocks(text):
    """{(group, namespace): text} of a sample's '# From NAMESPACE' blocks."""
    blocks, group, key = {}, None, None
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.fullmatch(r"\[[^]]+\]", line):
            group, key = line[1:-1], None
            continue
        found = re.fullmatch(r"# From (\S+)", line)
        if found and lines[number - 1] == "#":
            key = (group, found.group(1))
            blocks[key] = []
        elif key is not None:
            blocks[key].append(line)
    return {key: "\n".join(body).strip() for key, body in blocks.items()}


def _namespaces():
    return [line.split("=", 1)[1].strip()
            for line in GENERATOR_CONFIG.read_text().splitlines()
            if line.split("=", 1)[0].strip() == "namespace"]


def test_sample_config_is_current(tmp_path):
    """Our options exactly as generated now; every other namespace listed.

    The other namespaces (oslo.log) are compared by presence only, so that
    a new oslo.log release, with an option more or a reworded help, does
    not make the checked-in sample stale.
    """
    output = tmp_path / "solum.conf.sample"
    generator.main(["--config-file", str(GENERATOR_CONFIG),
                    "--output-file", str(output)])
    generated = _blocks(output.read_text())
    checked_in = _blocks(SAMPLE.read_text())
    stale = "etc/solum.conf.sample is stale: run 'tox -e genconfig'"
    own = {key: body for key, body in generated.items()
           if key[1] == OWN_NAMESPACE}
    assert own, "the generator lists none of our options"
    assert {key: body for key, body in checked_in.items()
            if key[1] == OWN_NAMESPACE} == own, stale
    assert {ns for _, ns in checked_in} == set(_namespaces()), stale
    for namespace in _namespaces():
        assert {group for group, ns in checked_in if ns == namespace} == \
            {group for group, ns in generated if ns == namespace}, stale


def test_sample_lists_oslo_log_options():
    assert "oslo.log" in _namespaces()
    oslo_log = _blocks(SAMPLE.read_text())[("DEFAULT", "oslo.log")]
    for option in ("debug", "log_file", "log_dir", "use_syslog",
                   "use_journal", "log_config_append"):
        assert re.search(rf"^#{option} = ", oslo_log, re.MULTILINE), option


def test_connection_option_is_secret_and_listed():
    [(group, opts)] = options.list_opts()
    assert group == "database"
    assert opts[0].name == "connection"
    assert opts[0].secret
    # The generator documents the very objects the CLI registers.
    assert opts[0] is options.DATABASE_OPTS[0]
    assert opts[1:] == list(db_options.database_opts())
