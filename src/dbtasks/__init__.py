"""dbtasks: Invoke tasks for Postgres onboarding and safe, fast Alembic migrations."""

from dbtasks import compiled

__version__ = "0.1.0"

compiled.install()
