"""Alembic environment: dbtasks' migration runtime does the work (see dbtasks.migrations)."""

from dbtasks.migrations.runtime import run_migrations

run_migrations()
