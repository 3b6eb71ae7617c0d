"""What the legacy history's revisions share: a helper module and habits."""

from __future__ import annotations

HELPERS_MODULE = "migration_helpers"
HELPERS = '''"""What the revisions share (imported through prepend_sys_path = .)."""

import sqlalchemy as sa
from alembic import op


def timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
    ]


def add_updated_at_trigger(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def drop_updated_at_trigger(table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_updated_at ON {table}")
'''
USES_HELPERS = [f"from {HELPERS_MODULE} import add_updated_at_trigger, timestamps"]
LOCK_TIMEOUT = "op.execute(\"SET lock_timeout = '4s'\")"
