"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    # Give up rather than queue: a statement waiting for a lock holds up every query
    # queued behind it. Both settings end with this revision's transaction.
    context.execute("SET LOCAL lock_timeout = '5s'")
    context.execute("SET LOCAL statement_timeout = '60s'")
    ${upgrades if upgrades else "pass"}
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: commit around it.
    # with context.get_context().autocommit_block():
    #     context.execute("CREATE INDEX CONCURRENTLY ix_t_c ON t (c)")


def downgrade() -> None:
    context.execute("SET LOCAL lock_timeout = '5s'")
    context.execute("SET LOCAL statement_timeout = '60s'")
    ${downgrades if downgrades else "pass"}
