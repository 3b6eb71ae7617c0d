"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Add a column safely (dbtasks template add_column): nullable first, so adding it rewrites
nothing; filled in batches that each commit on their own; then NOT NULL through a CHECK
added NOT VALID and validated (a scan that blocks no writes), which lets SET NOT NULL
skip its own scan (Postgres 12+). Rows written while it runs must set the column: deploy
the code that writes it first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}

# Fill these in.
TABLE = "TODO_table"
COLUMN = "TODO_column"
TYPE = "text"  # the column's SQL type
VALUE = "''"  # SQL for the rows there already: a constant or other columns (no ":name")
KEY = "id"  # the table's primary key, which the batches walk
BATCH = 5000  # rows per batch; each batch commits

CHECK = f"{TABLE}_{COLUMN}_not_null"
dbtasks_allow = {
    "ban-drop-constraint": "the temporary CHECK, once NOT NULL (which it let skip its scan) "
    "guarantees the same",
}


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f'ALTER TABLE "{TABLE}" ADD COLUMN IF NOT EXISTS "{COLUMN}" {TYPE}')
    with op.get_context().autocommit_block():
        op.execute("SET lock_timeout = '5s'")
        fill_in_batches()
        op.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{CHECK}" CHECK ("{COLUMN}" IS NOT NULL) '
            "NOT VALID"
        )
        op.execute(f'ALTER TABLE "{TABLE}" VALIDATE CONSTRAINT "{CHECK}"')
        op.execute("RESET lock_timeout")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f'ALTER TABLE "{TABLE}" ALTER COLUMN "{COLUMN}" SET NOT NULL')
    op.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{CHECK}"')


def fill_in_batches() -> None:
    fill = f'UPDATE "{TABLE}" SET "{COLUMN}" = {VALUE} WHERE "{COLUMN}" IS NULL'
    if context.is_offline_mode():
        op.execute(fill)
        return
    batch = sa.text(
        f'{fill} AND "{KEY}" IN (SELECT "{KEY}" FROM "{TABLE}" WHERE "{COLUMN}" IS NULL '
        "LIMIT :batch)"
    )
    while op.get_bind().execute(batch, {"batch": BATCH}).rowcount:
        pass


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f'ALTER TABLE "{TABLE}" DROP COLUMN IF EXISTS "{COLUMN}"')
