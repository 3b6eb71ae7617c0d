"""Commands that only read: each is one function over an opened, read-only `Work`, run by
`dbtasks.workflow.read` (as Alembic's command.py keeps each command one short function).

They change nothing: the database is probed, never started or created, and the Work's
grant is READ, which no effect accepts. The task that calls one renders what it returns
(`dbtasks.tasks._render`).
"""
