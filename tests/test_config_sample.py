"""The checked-in sample configuration is what the generator makes now."""

import pathlib

from oslo_config import generator

from solum_db_manage import cli, db_options

ROOT = pathlib.Path(__file__).resolve().parent.parent
GENERATOR_CONFIG = ROOT / "etc" / "oslo-config-generator" / \
    "solum-db-manage.conf"
SAMPLE = ROOT / "etc" / "solum.conf.sample"


def test_sample_config_is_current(tmp_path):
    output = tmp_path / "solum.conf.sample"
    generator.main(["--config-file", str(GENERATOR_CONFIG),
                    "--output-file", str(output)])
    assert output.read_text() == SAMPLE.read_text(), (
        "etc/solum.conf.sample is stale: run 'tox -e genconfig'")


def test_connection_option_is_secret_and_listed():
    [(group, opts)] = cli.list_opts()
    assert group == "database"
    assert opts[0].name == "connection"
    assert opts[0].secret
    # The generator documents the very objects the CLI registers.
    assert opts[0] is cli.DATABASE_OPTS[0]
    assert opts[1:] == list(db_options.database_opts())
