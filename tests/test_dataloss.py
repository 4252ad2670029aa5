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

"""Steps that destroy data: declared, counted, warned of, refused, forced.

``dataloss.DECLARATIONS`` says what every revision's upgrade and downgrade
drop or narrow; a walk over the whole chain on SQLite checks those
declarations against what each step really removes, so a revision that
drops something undeclared fails here.
"""


import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from solum_db_manage import commands, dataloss, db
from solum_db_manage.config import make_config
from tests import dbutil, schema_spec
from tests.helpers import (
    HEAD,
    WHEN,
    error_lines,
    insert,
)

UP, DOWN = dataloss.UPGRADE, dataloss.DOWNGRADE
LONG_BASE_IMAGE = "registry.example.com/solum/ubuntu-trusty-python27:2015-08"


def assess(engine, steps):
    with engine.connect() as connection:
        return dataloss.assess(connection, steps)


def counts(losses):
    """{(revision, direction, what): rows} of an assessment."""
    return {(loss.revision, loss.direction, loss.declaration.what): loss.rows
            for loss in losses}


def upgrade(db_url, revision):
    commands.upgrade(make_config(db_url), revision)


def warnings(err):
    """The text of each warning logged (oslo.log's format)."""
    return [line.split(" [-] ", 1)[1] for line in err.splitlines()
            if " WARNING solum_db_manage [-] " in line]


# --- the plan ----------------------------------------------------------------


def test_plan_is_the_walk_alembic_makes():
    config = make_config("sqlite://")
    assert dataloss.plan(config, ("438cd6d1c655",), "+2", UP) == [
        ("27dff58cbc65", UP), ("2c058b5051e4", UP)]
    assert dataloss.plan(config, (HEAD,), "-2", DOWN) == [
        (HEAD, DOWN), ("272e7cd352f9", DOWN)]
    assert dataloss.plan(config, (HEAD,), "head", UP) == []
    everything = dataloss.plan(config, (), "head", UP)
    assert [rev for rev, _ in everything] == list(schema_spec.REVISIONS)
    assert dataloss.plan(config, (HEAD,), "base", DOWN) == [
        (rev, DOWN) for rev in reversed(schema_spec.REVISIONS)]


def test_every_revision_has_reviewed_declarations():
    script = ScriptDirectory.from_config(make_config("sqlite://"))
    revisions = {script.revision for script in script.walk_revisions()}
    assert set(dataloss.DECLARATIONS) == revisions, (
        "declare in solum_db_manage/dataloss.py what each new revision's "
        "upgrade and downgrade drop or narrow ({} if nothing)")


# --- counting on the live database -------------------------------------------


def test_assess_counts_values_of_dropped_columns_not_nulls(db_url, engine):
    upgrade(db_url, "438cd6d1c655")
    for uri in ("swift://keys/a", "swift://keys/b", None):
        insert(engine, "plan", deploy_keys_uri=uri)
    losses = assess(engine, [("27dff58cbc65", UP), ("2c058b5051e4", UP)])
    assert [str(loss) for loss in losses] == [
        "upgrade 27dff58cbc65 drops plan.deploy_keys_uri: 2 rows hold a "
        "value that will be lost"]


def test_assess_counts_rows_of_dropped_tables_and_values_too_long(
        db_url, engine):
    upgrade(db_url, "43df309dbf3f")
    insert(engine, "image", base_image_id=LONG_BASE_IMAGE)
    insert(engine, "image", base_image_id="f" * 36)
    insert(engine, "image", base_image_id=None)
    insert(engine, "app")
    insert(engine, "app")
    losses = assess(engine, dataloss.plan(
        make_config(db_url), ("43df309dbf3f",), "1393c21ea82c",
        DOWN))
    assert counts(losses) == {
        ("43df309dbf3f", DOWN, "narrows image.base_image_id to 36 "
                               "characters"): 1,
        ("40df542e345", DOWN, "drops table app"): 2,
    }


def test_assess_finds_nothing_where_only_nulls_would_go(db_url, engine):
    upgrade(db_url, HEAD)
    plan_id = insert(engine, "plan")
    insert(engine, "assembly", plan_id=plan_id)
    insert(engine, "image", base_image_id="f" * 36, status="READY")
    insert(engine, "userlogs")
    config = make_config(db_url)
    steps = dataloss.plan(config, (HEAD,), "450600086a09", DOWN)
    assert assess(engine, steps) == []


def test_assess_counts_nothing_where_an_earlier_step_adds_the_column(
        db_url, engine):
    # On the Icehouse schema, assembly.trust_id and plan.deploy_keys_uri
    # do not exist: 498adc6185ae adds them empty, later steps drop them.
    upgrade(db_url, "icehouse")
    plan_id = insert(engine, "plan")
    for trigger in ("trigger-1", "trigger-2"):
        insert(engine, "assembly", plan_id=plan_id, trigger_id=trigger)
    steps = dataloss.plan(make_config(db_url), ("icehouse",),
                          "head", UP)
    found = counts(assess(engine, steps))
    assert list(found.values()) == [1]
    [(revision, direction, what)] = found
    assert (revision, direction) == ("5583c6e70156", UP)
    assert "assembly.trigger_id" in what


def test_assess_counts_a_value_once_where_two_steps_would_drop_it(
        db_url, engine):
    upgrade(db_url, "438cd6d1c655")
    insert(engine, "plan", deploy_keys_uri="swift://keys/a")
    twice = [("27dff58cbc65", UP), ("27dff58cbc65", UP)]
    assert [loss.rows for loss in assess(engine, twice)] == [1]


def test_assess_counts_what_the_trigger_move_loses_both_ways(db_url, engine):
    upgrade(db_url, "1f57763d7871")
    # Plan 1: assembly 2 holds the newest trigger and passes it on;
    # assembly 1's trigger and trust, and assembly 3's trust, are lost.
    insert(engine, "plan", id=1)
    insert(engine, "plan", id=2)
    insert(engine, "plan", id=3)
    insert(engine, "assembly", id=1, plan_id=1, trigger_id="t1",
           trust_id="s1", username="u1")
    insert(engine, "assembly", id=2, plan_id=1, trigger_id="t2",
           trust_id="s2", username="u2")
    insert(engine, "assembly", id=3, plan_id=1, trust_id="s3")
    insert(engine, "assembly", id=4, plan_id=2, trigger_id="t4")
    up = counts(assess(engine, [("5583c6e70156", UP)]))
    assert sorted(up.values()) == [1, 2]
    assert {what.split(",")[0].split()[-1]: rows
            for (_, _, what), rows in up.items()} == {
        "assembly.trigger_id": 1, "assembly.trust_id": 2}

    upgrade(db_url, "5583c6e70156")
    with engine.connect() as connection:
        kept = set(connection.scalars(sa.text(
            "SELECT trigger_id FROM plan WHERE trigger_id IS NOT NULL")))
    assert kept == {"t2", "t4"}  # of t1, t2 and t4: one lost, as counted

    # Down again: plan 1's values go to assembly 3 (its newest, which has
    # no username); plan 4 has no assembly to take them; assembly 5 keeps
    # its own username, so plan 5's is lost.
    insert(engine, "plan", id=4, trigger_id="t5", trust_id="s5",
           username="u5")
    insert(engine, "plan", id=5, username="u6")
    insert(engine, "assembly", id=5, plan_id=5, username="other")
    down = counts(assess(engine, [("5583c6e70156", DOWN)]))
    assert {what.split(",")[0].split()[-1]: rows
            for (_, _, what), rows in down.items()} == {
        "plan.trigger_id": 1, "plan.trust_id": 1, "plan.username": 2}


def _fill_for_the_move(engine):
    """Plans and assemblies covering each case of the trigger move; the
    values each plan must get: {plan id: (trigger, trust, username)}."""
    for plan_id in range(1, 7):
        insert(engine, "plan", id=plan_id)
    rows = [
        # plan 1: the newest holder (3) wins over 1 and 2; assembly 4
        # is newer but has no trigger.
        dict(id=1, plan_id=1, trigger_id="t1", trust_id="s1", username="u1"),
        dict(id=3, plan_id=1, trigger_id="t3", trust_id=None, username="u3"),
        dict(id=2, plan_id=1, trigger_id="t2", trust_id="s2", username="u2"),
        dict(id=4, plan_id=1, trust_id="s4", username="u4"),
        # plan 2: one holder without trust or username.
        dict(id=5, plan_id=2, trigger_id="t5"),
        # plan 3: assemblies, none with a trigger: the plan gets nothing.
        dict(id=6, plan_id=3, trust_id="s6", username="u6"),
        # plan 5: many holders, the highest id is inserted first.
        dict(id=90, plan_id=5, trigger_id="t90", trust_id="s90",
             username="u90"),
        *[dict(id=10 + i, plan_id=5, trigger_id=f"t{10 + i}",
               trust_id=f"s{10 + i}") for i in range(20)],
    ]
    for row in rows:
        insert(engine, "assembly", **row)
    return {1: ("t3", None, "u3"), 2: ("t5", None, None),
            3: (None, None, None), 4: (None, None, None),
            5: ("t90", "s90", "u90"), 6: (None, None, None)}


def _moved(engine):
    with engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(
            sa.text("SELECT id, trigger_id, trust_id, username FROM plan"))}


def _check_the_move(db_url, engine):
    upgrade(db_url, "1f57763d7871")
    expected = _fill_for_the_move(engine)
    up = counts(assess(engine, [("5583c6e70156", UP)]))
    lost = {what.split(",")[0].split()[-1]: rows
            for (_, _, what), rows in up.items()}
    # Triggers t1, t2 and 20 of plan 5's; trusts s1, s2, s4, s6 and 20 of
    # plan 5's (of the holders' trusts, s90 moves).
    assert lost == {"assembly.trigger_id": 22, "assembly.trust_id": 24}
    upgrade(db_url, "5583c6e70156")
    assert _moved(engine) == expected
    with engine.connect() as connection:
        indexes = {ix["name"] for ix in sa.inspect(connection)
                   .get_indexes("assembly")}
    assert "ix_solum_tmp_assembly_plan_trigger" not in indexes


def test_the_trigger_move_gives_each_plan_its_newest_holder(db_url, engine):
    """The one-pass UPDATE of each backend; the loss counts match what
    the move leaves behind."""
    _check_the_move(db_url, engine)


def test_the_trigger_move_is_counted_on_every_schema_before_it(
        db_url, engine):
    """The move's count reads only columns every earlier schema has: from
    Icehouse, assemblies have no trust_id and no username yet."""
    for start in ("icehouse", "498adc6185ae", "2f15f41cd87f"):
        upgrade(db_url, start)
        steps = dataloss.plan(make_config(db_url), (start,),
                              "5583c6e70156", UP)
        assert ("5583c6e70156", UP) in steps
        assess(engine, steps)  # raises on a missing column


def test_sqlite_without_update_from_moves_triggers_the_same_way(
        tmp_path, monkeypatch):
    """SQLite before 3.33 has no UPDATE ... FROM: the per-plan lookups
    it runs instead give the same values."""
    from solum_db_manage.alembic_migrations import helpers

    monkeypatch.setattr(helpers, "sqlite_version", lambda: (3, 31, 1))
    db_url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(db_url)
    moves = []

    def seen(conn, cursor, statement, *args):
        if statement.startswith("UPDATE plan SET trigger_id"):
            moves.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:
        _check_the_move(db_url, engine)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
        engine.dispose()
    # The per-plan lookups ran, not UPDATE ... FROM.
    assert len(moves) == 1 and " FROM (" not in moves[0], moves


# --- every drop and narrowing of the chain is declared -----------------------


def _fill_every_column(engine, n):
    """One row in every table, every column holding a value of the
    column's full length (longer than any VARCHAR for text columns)."""
    inspector = sa.inspect(engine)
    with engine.begin() as connection:
        for table in inspector.get_table_names():
            if table == dbutil.VERSION_TABLE:
                continue
            reflected = sa.Table(table, sa.MetaData(),
                                 autoload_with=connection)
            row = {}
            for column in reflected.columns:
                type_ = column.type
                if isinstance(type_, sa.Boolean):
                    row[column.name] = True
                elif isinstance(type_, sa.Integer):
                    # Every reference goes to id 1: plans then have
                    # several assemblies, and most have none.
                    row[column.name] = n if column.primary_key else 1
                elif isinstance(type_, sa.DateTime):
                    row[column.name] = WHEN
                elif isinstance(type_, sa.Text) or not type_.length:
                    row[column.name] = f"{n}-" + "t" * 4000
                else:
                    row[column.name] = (f"{n}-" + "v" * 4000)[:type_.length]
            connection.execute(reflected.insert().values(row))


def _shape(connection):
    inspector = sa.inspect(connection)
    return {table: {c["name"]: c["type"]
                    for c in inspector.get_columns(table)}
            for table in inspector.get_table_names()
            if table != dbutil.VERSION_TABLE}


def _narrows(old, new):
    if not isinstance(new, sa.String) or isinstance(new, sa.Text):
        return False
    if isinstance(old, sa.Text) or not old.length:
        return True
    return new.length < old.length


def _removed(before, after, renamed):
    """What a step took away: tables, columns, narrowed columns."""
    found = set()
    for table, columns in before.items():
        if table not in after:
            found.add(("table", table, None))
            continue
        names = renamed.get(table, {})
        for name, type_ in columns.items():
            new_name = names.get(name, name)
            if new_name not in after[table]:
                found.add(("column", table, name))
            elif _narrows(type_, after[table][new_name]):
                found.add(("narrow", table, name))
    return found


def _run_step(config, revision, direction):
    """Assess, then run one step; what it removed and what was counted."""
    with db.connect(config) as connection:
        before = _shape(connection)
        losses = dataloss.assess(connection, [(revision, direction)])
        connection.rollback()
        if direction == UP:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, schema_spec.below(revision) or "base")
        after = _shape(connection)
    renamed = schema_spec.renames(revision)
    if direction == DOWN:
        renamed = {table: {new: old for old, new in names.items()}
                   for table, names in renamed.items()}
    return _removed(before, after, renamed), losses


def test_declarations_cover_every_drop_and_narrowing_of_the_chain(tmp_path):
    db_url = f"sqlite:///{tmp_path}/walk.sqlite"
    engine = sa.create_engine(db_url)
    config = make_config(db_url)
    problems = []
    steps = [(rev, UP) for rev in schema_spec.REVISIONS]
    steps += [(rev, DOWN) for rev in reversed(schema_spec.REVISIONS)]
    for n, (revision, direction) in enumerate(steps, 1):
        removed, losses = _run_step(config, revision, direction)
        declarations = dataloss.declared(revision, direction)
        declared = set().union(*(d.covers() for d in declarations))
        for item in sorted(removed - declared, key=str):
            problems.append(f"{direction} {revision} removes {item}, "
                            f"undeclared")
        for item in sorted(declared - removed, key=str):
            problems.append(f"{direction} {revision} is declared to remove "
                            f"{item}, which it does not")
        counted = {loss.declaration for loss in losses}
        for declaration in declarations:
            if declaration not in counted:
                problems.append(f"{direction} {revision}: "
                                f"{declaration.what}: no loss counted on "
                                f"full columns")
        _fill_every_column(engine, n)
    engine.dispose()
    assert not problems, "\n".join(problems)


# --- the commands ------------------------------------------------------------


def test_upgrade_warns_of_values_it_drops_and_proceeds(solum, db_url,
                                                       engine):
    assert solum("upgrade", "438cd6d1c655", url=db_url).code == 0
    for uri in ("swift://keys/a", "swift://keys/b", None):
        insert(engine, "plan", deploy_keys_uri=uri)
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    assert warnings(result.err) == [
        "upgrade 27dff58cbc65 drops plan.deploy_keys_uri: 2 rows "
        "hold a value that will be lost"]
    # Before anything ran.
    assert result.err.index("WARNING") < result.err.index("Running upgrade")
    assert dbutil.version_rows(engine) == [HEAD]


def test_upgrade_warns_of_the_trigger_move_as_it_runs_finding_holders_once(
        solum, db_url, engine):
    """The review counts plan.deploy_keys_uri first; the trigger move
    reports what it left behind when it has run, and the holders are
    found once (by the move). ``--plan`` counts everything first."""
    assert solum("upgrade", "438cd6d1c655", url=db_url).code == 0
    expected = _fill_for_the_move(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE plan SET deploy_keys_uri = 'swift://keys/a' "
            "WHERE id = 1"))
    lines = [
        "upgrade 27dff58cbc65 drops plan.deploy_keys_uri: 1 row holds a "
        "value that will be lost",
        "upgrade 5583c6e70156 moves triggers to plans and drops "
        "assembly.trigger_id, which only each plan's newest assembly with "
        "a trigger passes on: 22 rows hold a value that will be lost",
        "upgrade 5583c6e70156 moves triggers to plans and drops "
        "assembly.trust_id, which only each plan's newest assembly with a "
        "trigger passes on: 24 rows hold a value that will be lost"]
    planned = solum("upgrade", "--plan", url=db_url)
    assert planned.code == 0, planned.err
    assert [line for line in lines if line in planned.out] == lines

    grouped = []

    def seen(conn, cursor, statement, *args):
        if "GROUP BY plan_id" in statement or "DISTINCT ON" in statement:
            grouped.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:
        result = solum("upgrade", "head", url=db_url)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    assert result.code == 0, result.err
    assert warnings(result.err) == lines
    assert len(grouped) == 1 and grouped[0].startswith("UPDATE plan"), \
        grouped
    err = result.err
    # The review's warning before anything ran; the move's once it ran,
    # before the next revision.
    assert err.index(lines[0]) < err.index("Running upgrade")
    assert (err.index("-> 5583c6e70156") < err.index(lines[1])
            < err.index("5583c6e70156 -> "))
    assert _moved(engine) == expected
    assert dbutil.version_rows(engine) == [HEAD]


def test_upgrade_warns_of_nothing_where_only_nulls_are_dropped(
        solum, db_url, engine):
    assert solum("upgrade", "438cd6d1c655", url=db_url).code == 0
    insert(engine, "plan", deploy_keys_uri=None)
    result = solum("upgrade", "head", url=db_url)
    assert result.code == 0, result.err
    assert "WARNING" not in result.err
    assert dbutil.version_rows(engine) == [HEAD]


def test_downgrade_that_would_lose_data_refuses_and_changes_nothing(
        solum, db_url, engine):
    assert solum("upgrade", "head", url=db_url).code == 0
    insert(engine, "image", base_image_id=LONG_BASE_IMAGE)
    insert(engine, "image", base_image_id="f" * 36)
    insert(engine, "app", scale_config='{"target": 2}')
    schema = dbutil.snapshot(engine, include_version_table=True)
    images = dbutil.rows(engine, "image")
    apps = dbutil.rows(engine, "app")

    result = solum("downgrade", "40df542e345", url=db_url)

    assert result.code == 1, result.err
    [error] = error_lines(result.err)
    assert "--force" in error
    assert "nothing was changed" in error
    assert ("downgrade a271b35952be drops app.scale_config: 1 row holds a "
            "value that will be lost") in error
    assert ("downgrade 43df309dbf3f narrows image.base_image_id to 36 "
            "characters: 1 row holds a longer value that will be cut") in error
    assert "Running downgrade" not in result.err
    assert dbutil.snapshot(engine, include_version_table=True) == schema
    assert dbutil.version_rows(engine) == [HEAD]
    assert dbutil.rows(engine, "image") == images
    assert dbutil.rows(engine, "app", order_by="id") == apps


def test_forced_downgrade_cuts_values_that_do_not_fit(solum, db_url,
                                                      engine):
    # On MySQL in strict mode (TRADITIONAL) and on PostgreSQL, narrowing
    # a column that holds longer values fails: they are cut first.
    assert solum("upgrade", "43df309dbf3f", url=db_url).code == 0
    long_ids = [LONG_BASE_IMAGE, "x" * 100]
    for base_image_id in [*long_ids, "f" * 36, None]:
        insert(engine, "image", base_image_id=base_image_id)

    result = solum("downgrade", "--force", "40df542e345", url=db_url)

    assert result.code == 0, result.err
    assert warnings(result.err) == [
        "downgrade 43df309dbf3f narrows image.base_image_id to 36 "
        "characters: 2 rows hold a longer value that will be cut",
        "cut 2 values of image.base_image_id to 36 characters",
    ]
    assert dbutil.version_rows(engine) == ["40df542e345"]
    assert [row["base_image_id"] for row in dbutil.rows(engine, "image")] == [
        LONG_BASE_IMAGE[:36], "x" * 36, "f" * 36, None]


def test_forced_downgrade_cuts_image_status_that_does_not_fit(
        solum, db_url, engine):
    assert solum("upgrade", "1f57763d7871", url=db_url).code == 0
    insert(engine, "image", status="UNITTEST_FAILED")
    result = solum("downgrade", "--force", "-1", url=db_url)
    assert result.code == 0, result.err
    assert ("cut 1 value of image.status to 12 characters"
            in warnings(result.err))
    assert [row["state"] for row in dbutil.rows(engine, "image")] == [
        "UNITTEST_FAI"]


def test_forced_downgrade_drops_what_it_warned_of(solum, db_url, engine):
    assert solum("upgrade", "head", url=db_url).code == 0
    insert(engine, "app", scale_config='{"target": 2}')
    result = solum("downgrade", "--force", "-1", url=db_url)
    assert result.code == 0, result.err
    assert warnings(result.err) == [
        "downgrade a271b35952be drops app.scale_config: 1 row "
        "holds a value that will be lost"]
    assert dbutil.version_rows(engine) == ["272e7cd352f9"]


def test_downgrade_losing_nothing_needs_no_force(solum, db_url, engine):
    assert solum("upgrade", "head", url=db_url).code == 0
    insert(engine, "app")  # app_url, status, raw_content, scale_config NULL
    insert(engine, "image", base_image_id="f" * 36)
    result = solum("downgrade", "40df542e345", url=db_url)
    assert result.code == 0, result.err
    assert "WARNING" not in result.err
    assert dbutil.version_rows(engine) == ["40df542e345"]


def test_force_changes_no_offline_sql(solum):
    url = "mysql+pymysql://solum:secret@127.0.0.1:1/solum"
    plain = solum("downgrade", "--sql", "43df309dbf3f:40df542e345", url=url)
    forced = solum("downgrade", "--sql", "--force",
                   "43df309dbf3f:40df542e345", url=url)
    assert plain.code == forced.code == 0, forced.err
    assert forced.out == plain.out
    assert "WARNING" not in forced.err
    assert "substr" not in forced.out.lower()


@pytest.mark.parametrize("argv, force", [
    (["downgrade", "-1"], False),
    (["downgrade", "--force", "-1"], True),
    (["downgrade", "-1", "--force"], True),
])
def test_downgrade_force_option(argv, force):
    from solum_db_manage import cli

    conf = cli.build_conf()
    conf(args=argv, project="solum", prog=cli.PROG,
         default_config_files=[], default_config_dirs=[])
    assert conf.command.force is force
