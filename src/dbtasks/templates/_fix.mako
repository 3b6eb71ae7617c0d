"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

The safe forms of risky statements of revisions that were pending, written by
`inv db.plan --fix` for review: an index is built CONCURRENTLY in an autocommit block
(after dropping the INVALID index a failed build leaves behind), a foreign key or CHECK
is added NOT VALID and then validated (a scan that blocks no reads or writes), a column
is added under a lock_timeout. If a validation fails, the constraint stays NOT VALID:
fix the rows it names, drop the constraint, and run this revision again.

It replaces these lines, to remove from their revisions:
% for line in removed:
- ${line}
% endfor
"""

from collections.abc import Sequence

% if uses_sa:
import sqlalchemy as sa
% endif
from alembic import op

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
${upgrade}


def downgrade() -> None:
${downgrade}
