"""dbtasks: Invoke tasks for Postgres onboarding and safe, fast Alembic migrations."""

__version__ = "0.1.0"
