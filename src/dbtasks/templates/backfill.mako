"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

A batched backfill with progress (dbtasks template backfill): rows are changed a batch at a
time, each batch committed on its own (no long row locks, no huge transaction), and the
progress is printed as it goes. The downgrade runs the inverse the same way.
"""

import sys
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}

# Fill these in (SQL fragments; no ":name" in them).
TABLE = "TODO_table"
KEY = "id"  # the table's primary key, which the batches walk
SET = "TODO_column = lower(TODO_other_column)"  # what the upgrade writes
WHERE = "TODO_column IS NULL"  # the rows still to do (a done row must stop matching)
UNDO_SET = "TODO_column = NULL"  # what the downgrade writes back
UNDO_WHERE = "TODO_column IS NOT NULL"
BATCH = 5000


def upgrade() -> None:
    with op.get_context().autocommit_block():
        in_batches(SET, WHERE)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        in_batches(UNDO_SET, UNDO_WHERE)


def in_batches(change: str, where: str) -> None:
    if context.is_offline_mode():
        op.execute(f'UPDATE "{TABLE}" SET {change} WHERE {where}')
        return
    bind = op.get_bind()
    total = bind.execute(sa.text(f'SELECT count(*) FROM "{TABLE}" WHERE {where}')).scalar() or 0
    batch = sa.text(
        f'UPDATE "{TABLE}" SET {change} WHERE "{KEY}" IN '
        f'(SELECT "{KEY}" FROM "{TABLE}" WHERE {where} LIMIT :batch)'
    )
    done = 0
    while done < total:
        changed = bind.execute(batch, {"batch": BATCH}).rowcount
        if not changed:
            break
        done += changed
        print(f"{TABLE}: {done}/{total} rows ({done * 100 // total}%)", file=sys.stderr)
