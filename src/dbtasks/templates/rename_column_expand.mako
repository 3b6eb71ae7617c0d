"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Rename a column in two steps, step 1 of 2: expand (dbtasks template rename_column_expand).
The new column is added and filled from the old one in batches, and a trigger keeps both
equal whichever one the running code writes. Deploy code that reads the new column, then
write step 2 with `inv db.revision --template rename_column_contract`.
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
OLD = "TODO_old_name"
NEW = "TODO_new_name"
TYPE = "text"  # the column's SQL type (nullable, no default: see docs/squash.md)
KEY = "id"  # the table's primary key, which the copy walks
BATCH = 5000

SYNC = f"{TABLE}_{OLD}_to_{NEW}_sync"


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(f'ALTER TABLE "{TABLE}" ADD COLUMN IF NOT EXISTS "{NEW}" {TYPE}')
    create_sync()
    copy(OLD, NEW)


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    drop_sync()
    op.execute(f'ALTER TABLE "{TABLE}" DROP COLUMN IF EXISTS "{NEW}"')


def create_sync() -> None:
    """A trigger that keeps both columns equal whichever one the code writes."""
    op.execute(
        f'CREATE OR REPLACE FUNCTION "{SYNC}"() RETURNS trigger LANGUAGE plpgsql AS $sync$ '
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        f'NEW."{NEW}" := COALESCE(NEW."{NEW}", NEW."{OLD}"); '
        f'NEW."{OLD}" := COALESCE(NEW."{OLD}", NEW."{NEW}"); '
        f'ELSIF NEW."{OLD}" IS DISTINCT FROM OLD."{OLD}" THEN NEW."{NEW}" := NEW."{OLD}"; '
        f'ELSIF NEW."{NEW}" IS DISTINCT FROM OLD."{NEW}" THEN NEW."{OLD}" := NEW."{NEW}"; '
        "END IF; RETURN NEW; END $sync$"
    )
    op.execute(
        f'CREATE TRIGGER "{SYNC}" BEFORE INSERT OR UPDATE ON "{TABLE}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{SYNC}"()'
    )


def drop_sync() -> None:
    op.execute(f'DROP TRIGGER IF EXISTS "{SYNC}" ON "{TABLE}"')
    op.execute(f'DROP FUNCTION IF EXISTS "{SYNC}"()')


def copy(source: str, target: str) -> None:
    """Copy one column into the other a batch at a time, each batch committed."""
    differs = f'"{target}" IS DISTINCT FROM "{source}"'
    change = f'UPDATE "{TABLE}" SET "{target}" = "{source}" WHERE {differs}'
    if context.is_offline_mode():
        op.execute(change)
        return
    batch = sa.text(
        f'{change} AND "{KEY}" IN (SELECT "{KEY}" FROM "{TABLE}" WHERE {differs} LIMIT :batch)'
    )
    with op.get_context().autocommit_block():
        while op.get_bind().execute(batch, {"batch": BATCH}).rowcount:
            pass
