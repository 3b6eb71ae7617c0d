"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Add a foreign key without a long lock (dbtasks template foreign_key): added NOT VALID (a
brief lock; new rows are checked from then on), committed, then validated, which scans the
existing rows under a lock that blocks no reads or writes. Index the column too, or every
delete from the referenced table scans this one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}

# Fill these in.
TABLE = "TODO_table"
COLUMN = "TODO_column"
REFERRED = "TODO_referred_table"
REFERRED_COLUMN = "id"
NAME = f"{TABLE}_{COLUMN}_fkey"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{NAME}" FOREIGN KEY ("{COLUMN}") '
        f'REFERENCES "{REFERRED}" ("{REFERRED_COLUMN}") NOT VALID'
    )
    with op.get_context().autocommit_block():
        op.execute(f'ALTER TABLE "{TABLE}" VALIDATE CONSTRAINT "{NAME}"')


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT IF EXISTS "{NAME}"')
