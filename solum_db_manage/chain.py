"""The migration chain as data: its revisions and the schema each leaves.

What ``version``, ``check`` and the guards of ``upgrade`` need to know of
the chain without loading it through Alembic: the revisions in order, the
head, and per revision the tables and column names it leaves (what
diagnose.py compares a live schema with). Loading the scripts and walking
them costs ~0.3 s a process (and Alembic's import); this data, nothing.

The generated part below is made from the migration scripts by walking
them with Alembic on an in-memory SQLite database::

    python -m solum_db_manage.chain --write   # after adding a revision
    python -m solum_db_manage.chain           # exit 1 if this file is stale

tests/test_chain_data.py walks the chain again and fails while this file
is stale. Until it is regenerated, :func:`current` notices a script added,
removed or renamed (a developer's new revision) and walks the scripts
instead, with a warning.
"""

import functools
import logging
import os

LOG = logging.getLogger("solum_db_manage")

# --- generated: do not edit by hand ------------------------------------------

HEAD = "a271b35952be"

# The scripts this was generated from (versions/*.py).
SCRIPTS = (
    "112cfe038dd3_add_status_and_appurl_to_app.py",
    "1393c21ea82c_add_image_id_to_assembly_table.py",
    "176c26131889_rename_assembly_uuid_column_in_userlogs.py",
    "1f57763d7871_rename_image_state_column_to_status.py",
    "269f9da4b38e_add_username_to_assembly_table.py",
    "272e7cd352f9_add_result_column_to_workflow_table.py",
    "27dff58cbc65_drop_column_deploy_keys_uri_in_plan.py",
    "2c058b5051e4_add_external_ref_to_image_table.py",
    "2e825c2c80c7_add_raw_content_to_app_table.py",
    "2f15f41cd87f_add_workflow_column_to_assembly_table.py",
    "390c6c4aa97b_create_workflow_table.py",
    "3a615b3b2eae_add_artifact_type_to_image_table.py",
    "40df542e345_create_app_table.py",
    "438cd6d1c655_add_project_column_to_userlogs.py",
    "43df309dbf3f_extend_base_image_id_to_100_chars.py",
    "450600086a09_add_user_logs_table.py",
    "452f34e8ea3_add_docker_image_name_to_image_table.py",
    "498adc6185ae_create_initial_db_schema.py",
    "5583c6e70156_move_triggers_from_assembly_to_plan.py",
    "586c15b92842_create_parameter_table.py",
    "a271b35952be_add_scale_config_to_app_table.py",
    "e5f2e8af3b8_add_uniqueness_constraint_to_workflow.py",
    "icehouse_create_icehouse_schema.py")

# Root first: (revision, down_revision, {table: its column names after the
# revision}), for each table the revision creates or changes; None for a
# table it drops.
CHAIN = (
    ("icehouse", None, {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "updated_at", "user_id", "uuid"),
        "component": (
            "assembly_id", "created_at", "description", "id", "name",
            "parent_component_id", "project_id", "resource_uri", "tags",
            "updated_at", "user_id", "uuid"),
        "extension": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "updated_at", "user_id", "uuid", "version"),
        "image": (
            "base_image_id", "created_at", "created_image_id", "description",
            "id", "image_format", "name", "project_id", "source_format",
            "source_uri", "state", "tags", "updated_at", "user_id", "uuid"),
        "operation": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "tags", "target_resource", "updated_at", "user_id",
            "uuid"),
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "updated_at", "user_id", "uuid"),
        "sensor": (
            "created_at", "description", "documentation", "id", "name",
            "project_id", "sensor_type", "target_resource", "timestamp",
            "updated_at", "user_id", "uuid", "value"),
        "service": (
            "created_at", "description", "id", "name", "project_id",
            "read_only", "service_type", "tags", "updated_at", "user_id",
            "uuid"),
    }),
    ("498adc6185ae", "icehouse", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "uuid"),
        "component": (
            "assembly_id", "component_type", "created_at", "description",
            "heat_stack_id", "id", "name", "parent_component_id", "project_id",
            "resource_uri", "tags", "updated_at", "user_id", "uuid"),
        "execution": (
            "created_at", "id", "pipeline_id", "updated_at", "uuid"),
        "infrastructure_stack": (
            "created_at", "description", "heat_stack_id", "id", "image_id",
            "name", "project_id", "tags", "updated_at", "user_id", "uuid"),
        "pipeline": (
            "created_at", "description", "id", "name", "plan_id", "project_id",
            "tags", "trigger_id", "trust_id", "updated_at", "user_id", "uuid",
            "workbook_name"),
        "plan": (
            "created_at", "deploy_keys_uri", "description", "id", "name",
            "project_id", "raw_content", "updated_at", "user_id", "uuid"),
    }),
    ("450600086a09", "498adc6185ae", {
        "userlogs": (
            "assembly_uuid", "created_at", "id", "location", "strategy",
            "strategy_info", "updated_at"),
    }),
    ("3a615b3b2eae", "450600086a09", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "id", "image_format", "name", "project_id",
            "source_format", "source_uri", "state", "tags", "updated_at",
            "user_id", "uuid"),
    }),
    ("586c15b92842", "3a615b3b2eae", {
        "parameter": (
            "created_at", "id", "plan_id", "sys_defined_params", "updated_at",
            "user_defined_params"),
    }),
    ("269f9da4b38e", "586c15b92842", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "username", "uuid"),
    }),
    ("438cd6d1c655", "269f9da4b38e", {
        "userlogs": (
            "assembly_uuid", "created_at", "id", "location", "project_id",
            "strategy", "strategy_info", "updated_at"),
    }),
    ("27dff58cbc65", "438cd6d1c655", {
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "updated_at", "user_id", "uuid"),
    }),
    ("2c058b5051e4", "27dff58cbc65", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "external_ref", "id", "image_format", "name",
            "project_id", "source_format", "source_uri", "state", "tags",
            "updated_at", "user_id", "uuid"),
    }),
    ("176c26131889", "2c058b5051e4", {
        "userlogs": (
            "created_at", "id", "location", "project_id", "resource_type",
            "resource_uuid", "strategy", "strategy_info", "updated_at"),
    }),
    ("2f15f41cd87f", "176c26131889", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "trigger_id",
            "trust_id", "updated_at", "user_id", "username", "uuid",
            "workflow"),
    }),
    ("1f57763d7871", "2f15f41cd87f", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "external_ref", "id", "image_format", "name",
            "project_id", "source_format", "source_uri", "status", "tags",
            "updated_at", "user_id", "uuid"),
    }),
    ("5583c6e70156", "1f57763d7871", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "name",
            "plan_id", "project_id", "status", "tags", "updated_at", "user_id",
            "username", "uuid", "workflow"),
        "plan": (
            "created_at", "description", "id", "name", "project_id",
            "raw_content", "trigger_id", "trust_id", "updated_at", "user_id",
            "username", "uuid"),
    }),
    ("452f34e8ea3", "5583c6e70156", {
        "image": (
            "artifact_type", "base_image_id", "created_at", "created_image_id",
            "description", "docker_image_name", "external_ref", "id",
            "image_format", "name", "project_id", "source_format",
            "source_uri", "status", "tags", "updated_at", "user_id", "uuid"),
    }),
    ("1393c21ea82c", "452f34e8ea3", {
        "assembly": (
            "application_uri", "created_at", "description", "id", "image_id",
            "name", "plan_id", "project_id", "status", "tags", "updated_at",
            "user_id", "username", "uuid", "workflow"),
    }),
    ("40df542e345", "1393c21ea82c", {
        "app": (
            "created_at", "deleted", "description", "id", "languagepack",
            "name", "ports", "project_id", "source", "stack_id",
            "trigger_actions", "trigger_uuid", "trust_id", "trust_user",
            "updated_at", "user_id", "workflow_config"),
    }),
    ("43df309dbf3f", "40df542e345", {}),
    ("390c6c4aa97b", "43df309dbf3f", {
        "workflow": (
            "actions", "app_id", "assembly", "config", "created_at", "deleted",
            "deleted_at", "id", "project_id", "source", "status", "updated_at",
            "user_id", "wf_id"),
    }),
    ("112cfe038dd3", "390c6c4aa97b", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "source",
            "stack_id", "status", "trigger_actions", "trigger_uuid",
            "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
    ("e5f2e8af3b8", "112cfe038dd3", {}),
    ("2e825c2c80c7", "e5f2e8af3b8", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "raw_content",
            "source", "stack_id", "status", "trigger_actions", "trigger_uuid",
            "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
    ("272e7cd352f9", "2e825c2c80c7", {
        "workflow": (
            "actions", "app_id", "assembly", "config", "created_at", "deleted",
            "deleted_at", "id", "project_id", "result", "source", "status",
            "updated_at", "user_id", "wf_id"),
    }),
    ("a271b35952be", "272e7cd352f9", {
        "app": (
            "app_url", "created_at", "deleted", "description", "id",
            "languagepack", "name", "ports", "project_id", "raw_content",
            "scale_config", "source", "stack_id", "status", "trigger_actions",
            "trigger_uuid", "trust_id", "trust_user", "updated_at", "user_id",
            "workflow_config"),
    }),
)

# --- end of the generated part -----------------------------------------------

_GENERATED_START = "# --- generated: do not edit by hand"
_GENERATED_END = "# --- end of the generated part"


class Chain:
    """The head, the revisions root first, and the schema each leaves."""

    def __init__(self, head, revisions, fingerprints):
        self.head = head
        self.revisions = list(revisions)
        # [(revision, {table: frozenset(column names)})], root first.
        self.fingerprints = fingerprints

    def pending(self, recorded):
        """The revisions an upgrade to head runs from ``recorded``."""
        return self.revisions[self.revisions.index(recorded) + 1:]


@functools.cache
def shipped():
    """The chain as the generated data above describes it."""
    fingerprints = []
    tables = {}
    for revision, _, changes in CHAIN:
        tables = dict(tables)
        for table, columns in changes.items():
            if columns is None:
                tables.pop(table, None)
            else:
                tables[table] = frozenset(columns)
        fingerprints.append((revision, tables))
    return Chain(HEAD, [revision for revision, _, _ in CHAIN], fingerprints)


def current():
    """The chain of the migration scripts in use.

    The shipped data, unless the scripts are not those it was generated
    from (by file name): then they are walked, once a process.
    """
    directory = os.path.join(_scripts_path(), "versions")
    names = script_names(directory)
    if names == frozenset(SCRIPTS):
        return shipped()
    return _walked(directory, names)


@functools.cache
def _walked(directory, names):
    LOG.warning(
        "solum_db_manage/chain.py does not describe the migration "
        "scripts (a revision added or removed?); walking them instead. Run "
        "'python -m solum_db_manage.chain --write'.")
    head, walked = walk()
    return Chain(head, [revision for revision, _, _ in walked],
                 [(revision, tables) for revision, _, tables in walked])


def _scripts_path():
    from solum_db_manage import scripts

    return scripts.scripts_path()


def script_names(directory=None):
    """The file names of the migration scripts (versions/*.py)."""
    directory = directory or os.path.join(_scripts_path(), "versions")
    return frozenset(name for name in os.listdir(directory)
                     if name.endswith(".py"))


# --- Generating the data above (needs Alembic) -------------------------------

def walk():
    """(head, [(revision, down_revision, fingerprint)]): the scripts walked
    with Alembic on an in-memory SQLite database, root first."""
    import sqlalchemy as sa
    from alembic import command

    from solum_db_manage import diagnose, scripts
    from solum_db_manage.config import make_config

    config = make_config("sqlite://")
    script = scripts.script_directory(config)
    down = {rev.revision: rev.down_revision
            for rev in script.walk_revisions()}
    if len(script.get_heads()) != 1 or any(
            isinstance(parent, tuple) for parent in down.values()):
        raise RuntimeError("the chain is not one straight line")
    walked = []

    def record(ctx, step, heads, run_args):
        revision = step.up_revision_id
        walked.append((revision, down[revision],
                       diagnose.live_fingerprint(ctx.connection)))

    config.attributes["after_revision"] = record
    engine = sa.create_engine("sqlite://")
    quiet = logging.getLogger("alembic")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        quiet.setLevel(level)
        engine.dispose()
    return script.get_current_head(), walked


def render(head, walked, names):
    """The generated part of this module for a walk."""
    lines = [_GENERATED_START + " " + "-" * (78 - len(_GENERATED_START)),
             "", f"HEAD = {_literal(head)}", "",
             "# The scripts this was generated from (versions/*.py).",
             "SCRIPTS = ("]
    lines += _wrapped(sorted(names), " " * 4, end=")")
    lines += ["",
              "# Root first: (revision, down_revision, {table: its column "
              "names after the",
              "# revision}), for each table the revision creates or "
              "changes; None for a",
              "# table it drops.",
              "CHAIN = ("]
    before = {}
    for revision, down_revision, tables in walked:
        changed = [table for table in sorted(set(before) | set(tables))
                   if before.get(table) != tables.get(table)]
        opening = f"    ({_literal(revision)}, {_literal(down_revision)}, {{"
        if not changed:
            lines.append(opening + "}),")
        else:
            lines.append(opening)
            for table in changed:
                if table not in tables:
                    lines.append(f"        {_literal(table)}: None,")
                else:
                    lines.append(f"        {_literal(table)}: (")
                    lines += _wrapped(sorted(tables[table]), " " * 12)
            lines.append("    }),")
        before = tables
    lines += [")", "",
              _GENERATED_END + " " + "-" * (78 - len(_GENERATED_END))]
    return "\n".join(lines) + "\n"


def _literal(value):
    """A name as this project quotes it (revision ids, table, column and
    file names are ASCII, for which JSON's quoting is Python's)."""
    import json

    return "None" if value is None else json.dumps(value)


def _wrapped(names, indent, end="),"):
    lines, line = [], indent
    for at, name in enumerate(names):
        item = _literal(name) + ("," if at + 1 < len(names) else end)
        if line != indent and len(line) + 1 + len(item) > 79:
            lines.append(line)
            line = indent
        line += ("" if line == indent else " ") + item
    lines.append(line)
    return lines


def regenerated(text):
    """This module's text with its generated part made from the scripts."""
    start = text.index(_GENERATED_START)
    end = text.index("\n", text.index(_GENERATED_END)) + 1
    return text[:start] + render(*walk(), script_names()) + text[end:]


def main(argv=None):
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m solum_db_manage.chain",
        description="Check (or with --write, regenerate) the chain data "
                    "of solum_db_manage/chain.py from the migration "
                    "scripts.")
    parser.add_argument("--write", action="store_true",
                        help="Rewrite chain.py instead of checking it.")
    args = parser.parse_args(argv)
    with open(__file__, encoding="utf-8") as source:
        text = source.read()
    fresh = regenerated(text)
    if args.write:
        if fresh != text:
            with open(__file__, "w", encoding="utf-8") as target:
                target.write(fresh)
            print(f"{__file__} regenerated")
        else:
            print(f"{__file__} is up to date")
        return 0
    if fresh != text:
        sys.stderr.write(f"{__file__} is stale: run 'python -m "
                         f"solum_db_manage.chain --write'\n")
        return 1
    print(f"{__file__} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
