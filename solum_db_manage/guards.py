"""Checks that run before an upgrade changes anything."""

import sqlalchemy as sa

from solum_db_manage import errors

# Revisions whose schema has plan.deploy_keys_uri: 498adc6185ae's final
# form added it, 27dff58cbc65 drops it.
_WITH_DEPLOY_KEYS_URI = (
    "498adc6185ae", "450600086a09", "3a615b3b2eae", "586c15b92842",
    "269f9da4b38e", "438cd6d1c655",
)


def check_upgrade(connection, heads):
    """Refuse an upgrade that would stop half-way on a 2014 schema.

    Solum's 2014 releases recorded 498adc6185ae on an older form of its
    schema; upgrading such a database without ``stamp icehouse`` fails at
    27dff58cbc65 (and left the original's users at 438cd6d1c655).
    """
    if len(heads) != 1 or heads[0] not in _WITH_DEPLOY_KEYS_URI:
        return
    inspector = sa.inspect(connection)
    if not inspector.has_table("plan"):
        return
    if "deploy_keys_uri" in {c["name"] for c in inspector.get_columns("plan")}:
        return
    recorded = heads[0]
    if recorded == "498adc6185ae":
        repair = ("run 'solum-db-manage stamp icehouse', then "
                  "'solum-db-manage upgrade head'")
    else:
        repair = (f"run 'solum-db-manage stamp icehouse', 'solum-db-manage "
                  f"upgrade 498adc6185ae', 'solum-db-manage stamp "
                  f"{recorded}', then 'solum-db-manage upgrade head'")
    raise errors.SolumDBManageError(
        f"the database records revision {recorded} but holds a 2014 "
        f"(pre-Juno) form of the schema: plan.deploy_keys_uri is missing; "
        f"nothing was changed. To complete it, {repair}")
