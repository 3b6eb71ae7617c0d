"""row level security and grants

Each signed-in user (Postgres role `authenticated`, identified by `auth.uid()` from the
JWT) sees and writes only their own rows; `service_role` bypasses RLS as on Supabase;
`anon` gets nothing. SQLAlchemy does not model policies, so this revision is by hand.

Revision ID: 59e31a18c39a
Revises: 5b9e0513058e
Create Date: 2026-11-23 23:25:37.172156

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "59e31a18c39a"
down_revision: str | Sequence[str] | None = "5b9e0513058e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# table -> the condition that makes a row the signed-in user's own
OWN_ROWS = {
    "profiles": "id = (SELECT auth.uid())",
    "journal_entries": "profile_id = (SELECT auth.uid())",
    "tags": "profile_id = (SELECT auth.uid())",
    "agent_conversations": "profile_id = (SELECT auth.uid())",
    "entry_tags": "EXISTS (SELECT 1 FROM journal_entries e "
    "WHERE e.id = entry_id AND e.profile_id = (SELECT auth.uid()))",
    "agent_messages": "EXISTS (SELECT 1 FROM agent_conversations c "
    "WHERE c.id = conversation_id AND c.profile_id = (SELECT auth.uid()))",
}
ROLES = "anon, authenticated, service_role"


def upgrade() -> None:
    # The schema's name is whatever DB_SCHEMA says; current_schema() is that schema.
    op.execute(
        f"DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {ROLES}', current_schema()); "
        "END $$"
    )
    for table, own in OWN_ROWS.items():
        op.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO authenticated, service_role"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f'CREATE POLICY "own rows" ON {table} FOR ALL TO authenticated '
            f"USING ({own}) WITH CHECK ({own})"
        )


def downgrade() -> None:
    for table in reversed(OWN_ROWS):
        op.execute(f'DROP POLICY IF EXISTS "own rows" ON {table}')
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM authenticated, service_role")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {ROLES}', current_schema()); "
        "END $$"
    )
