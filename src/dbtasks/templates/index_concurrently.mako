"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Add an index without blocking writes (dbtasks template index_concurrently): CREATE INDEX
CONCURRENTLY, which cannot run inside a transaction, in an autocommit block. A build that
failed (a timeout, a duplicate for a unique index) leaves an INVALID index behind: it is
dropped first, so running the revision again builds it afresh.
"""

from collections.abc import Sequence

from alembic import op

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}

# Fill these in.
TABLE = "TODO_table"
COLUMNS = ["TODO_column"]
INDEX = f"ix_{TABLE}_{'_'.join(COLUMNS)}"
UNIQUE = False


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            INDEX, TABLE, COLUMNS, unique=UNIQUE, postgresql_concurrently=True, if_not_exists=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True, if_exists=True)
