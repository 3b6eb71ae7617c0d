"""${message}

Revision ID: ${up_revision}
Revises:
Create Date: ${create_date}

A squashed baseline, written by `inv db.squash`: in place of the ${count} revisions
it replaces (their files are in ${squash_folder}/ until `inv db.squash --prune`), it
loads what they made, proven equal by a catalog fingerprint of both. A database at
this revision is where it was; one at a replaced revision catches up with
`inv db.squash --catch-up`. Do not edit: `inv db.validate` checks it (docs/squash.md).

Carried: ${"; ".join(carried)}.
% for note in notes:
Note: ${note}
% endfor
"""

from alembic import context, op

revision = ${repr(up_revision)}
down_revision = None
branch_labels = ${repr(branch_labels)}
depends_on = None

${marker} = ${squash}

UPGRADE = ${upgrade_sql}

DOWNGRADE = ${downgrade_sql}


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)


def _run(sql: str) -> None:
    # One script on the driver's cursor, in this revision's transaction: no statement of
    # it is read for bind parameters (":name", "%") on the way.
    if context.is_offline_mode():
        context.get_context().impl.static_output(sql)
        return
    with op.get_bind().connection.dbapi_connection.cursor() as cur:
        cur.execute(sql)
