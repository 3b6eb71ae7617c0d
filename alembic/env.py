"""Alembic environment: dbtasks' migration runtime does the work (see dbtasks.adapter.runtime)."""

from dbtasks.adapter.runtime import run_migrations

run_migrations()
