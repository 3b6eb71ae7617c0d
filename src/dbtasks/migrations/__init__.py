"""Alembic, driven in-process: one Config factory, plans as data, runs under a lock."""
