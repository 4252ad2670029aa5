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

"""Move triggers from Assembly to Plan

Revision ID: 5583c6e70156
Revises: 1f57763d7871
Create Date: 2015-03-09 16:31:28.130484

The original only moved the columns, losing the values. Here each plan
gets the trigger_id, trust_id and username of its newest assembly (the
highest id) that has a trigger. The downgrade gives a plan's trigger_id
and trust_id back to its newest assembly, and its username where that
assembly has none. Each copy is one statement of plain SQL, so that
``--sql`` prints it too. The copy to plans finds the holders in one pass
(``helpers.trigger_holders``, the same query with which ``--plan`` and
the data-loss review count what the move loses), in the form each
backend runs fastest. Where the command running
it asks (``helpers.report``), the upgrade says how many values it left
behind: those the assemblies held less those the plans hold after the
copy, two plain counts.

Run again after an interruption, each step does only what is left. A copy
runs while the trigger_id it copies from is there, and running it twice
gives the same values; once that column is dropped, the copy was
committed (MySQL commits before each DDL statement).
"""

import sqlalchemy as sa
from alembic import op

from solum_db_manage.alembic_migrations import helpers

# revision identifiers, used by Alembic.
revision = "5583c6e70156"
down_revision = "1f57763d7871"
branch_labels = None
depends_on = None

_MOVED = ("trigger_id", "trust_id", "username")
# The assemblies' columns the upgrade drops: only the values it moves live
# on (in the plans).
_LEFT = ("trigger_id", "trust_id")


def copy_to_plans(dialect):
    """The UPDATE giving each plan its newest trigger holder's values."""
    holders = helpers.trigger_holders(dialect)
    if dialect == "mysql":
        return ("UPDATE plan JOIN " + holders + " ON h.plan_id = plan.id "
                "SET " + ", ".join(f"plan.{c} = h.{c}" for c in _MOVED))
    return ("UPDATE plan SET " + ", ".join(f"{c} = h.{c}" for c in _MOVED)
            + " FROM " + holders + " WHERE h.plan_id = plan.id")


# SQLite before 3.33 has no UPDATE ... FROM: one lookup per plan instead.
_TRIGGER_HOLDER = (
    "(SELECT MAX(holder.id) FROM assembly holder "
    "WHERE holder.plan_id = plan.id AND holder.trigger_id IS NOT NULL)")

COPY_TO_PLANS_PER_PLAN = (
    "UPDATE plan SET "
    + ", ".join(f"{c} = (SELECT a.{c} FROM assembly a "
                f"WHERE a.id = {_TRIGGER_HOLDER})" for c in _MOVED)
    + " WHERE EXISTS (SELECT 1 FROM assembly holder "
    "WHERE holder.plan_id = plan.id AND holder.trigger_id IS NOT NULL)")

# MySQL refuses a subquery on the table being updated (error 1093) unless
# it is a derived table that is materialised, as GROUP BY makes it.
COPY_TO_ASSEMBLIES = (
    "UPDATE assembly SET "
    "trigger_id = (SELECT p.trigger_id FROM plan p "
    "WHERE p.id = assembly.plan_id), "
    "trust_id = (SELECT p.trust_id FROM plan p "
    "WHERE p.id = assembly.plan_id), "
    "username = COALESCE(username, (SELECT p.username FROM plan p "
    "WHERE p.id = assembly.plan_id)) "
    "WHERE assembly.id IN (SELECT newest.id FROM "
    "(SELECT MAX(id) AS id FROM assembly GROUP BY plan_id) newest)")


def upgrade():
    helpers.add_columns("plan", [
        (sa.Column("trigger_id", sa.String(36)), None),
        (sa.Column("trust_id", sa.String(255)), None),
        (sa.Column("username", sa.String(256)), None),
    ])
    if helpers.has_column("assembly", "trigger_id"):
        dialect = helpers.dialect_name()
        # What the move leaves behind, for the command's warning: the
        # values assemblies hold less those the plans hold after it.
        held = (helpers.values_held("assembly", _LEFT)
                if helpers.reporting() else None)
        if (dialect == "sqlite"
                and helpers.sqlite_version() < helpers.SQLITE_UPDATE_FROM):
            with helpers.lookup_index("assembly", ["plan_id", "trigger_id"],
                                      "ix_solum_tmp_assembly_plan_trigger"):
                op.execute(COPY_TO_PLANS_PER_PLAN)
        else:
            op.execute(copy_to_plans(dialect))
        if held is not None:
            moved = helpers.values_held("plan", _LEFT)
            helpers.report(revision, "upgrade", lost={
                ("assembly", column): count - moved.get(column, 0)
                for column, count in held.items()})
    helpers.drop_columns("assembly", "trigger_id", "trust_id")


def downgrade():
    helpers.add_columns("assembly", [
        (sa.Column("trigger_id", sa.String(36)), "status"),
        (sa.Column("trust_id", sa.String(255)), "trigger_id"),
    ])
    if helpers.has_column("plan", "trigger_id"):
        op.execute(COPY_TO_ASSEMBLIES)
    helpers.drop_columns("plan", "trigger_id", "trust_id", "username")
