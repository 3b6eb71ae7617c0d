"""Scratch projects: one versions folder, wired for dbtasks and for raw Alembic.

The dbtasks side uses the repository's own `alembic.ini`, `alembic/env.py`,
`script.py.mako` and `tasks.py`. The raw side is what `alembic init` writes, with the URL
from an environment variable and the same schema for tables and version table, in a
separate `alembic_raw.ini` whose `version_locations` is the same versions folder: both
sides apply the very same files and build the very same schema.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.checks import SCHEMA
from bench.history import History, write_history

REPO = Path(__file__).resolve().parents[1]
ONE_TASK = 'from invoke import task\n\n\n@task\ndef hello(c):\n    """Say hello."""\n'
# The least a command that runs a revision can cost: Invoke's start with one task, which
# imports what every revision run needs (Alembic's `op` with its migration context,
# SQLAlchemy, the psycopg2 dialect), as lean as dbtasks imports them, and runs nothing;
# it ends, as dbtasks does, without the interpreter's last collections.
IMPORTS_TASK = """\
import atexit
import gc

from invoke import task

atexit.register(gc.freeze)


@task
def imports(c):
    \"\"\"Import what running one revision needs; run nothing.\"\"\"
    from dbtasks.adapter import lean_imports

    lean_imports.install()
    import alembic.op  # noqa: F401
    import alembic.runtime.migration  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg2  # noqa: F401

    print("imported")
"""
# dbtasks loads DB_METADATA on every run; upgrade and status need no models.
NO_MODELS = "from sqlalchemy import MetaData\n\nmetadata = MetaData()\n"
PYPROJECT = f'[tool.dbtasks]\nmetadata = "bench_models:metadata"\nschema = "{SCHEMA}"\n'

RAW_INI = """\
[alembic]
script_location = %(here)s/alembic_raw
version_locations = %(here)s/alembic/versions
path_separator = os

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

# Alembic's generic template (`alembic init`), with two changes a project that keeps its
# tables in one schema makes: the URL comes from the environment, and the schema is
# created, put on the search_path and used for the version table.
RAW_ENV = """\
import os
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool, text

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None
URL = os.environ["BENCH_DATABASE_URL"]
SCHEMA = os.environ["BENCH_SCHEMA"]
SCHEMA_SQL = (f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"', f'SET search_path TO "{SCHEMA}"')


def run_migrations_offline() -> None:
    context.configure(
        url=URL,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        version_table_schema=SCHEMA,
    )
    for statement in SCHEMA_SQL:
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        {"sqlalchemy.url": URL}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        for statement in SCHEMA_SQL:
            connection.execute(text(statement))
        connection.commit()
        context.configure(
            connection=connection, target_metadata=target_metadata, version_table_schema=SCHEMA
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""


@dataclass(frozen=True)
class Project:
    root: Path
    history: History

    @property
    def raw_ini(self) -> Path:
        return self.root / "alembic_raw.ini"

    @property
    def versions(self) -> Path:
        return self.root / "alembic" / "versions"


def make_project(root: Path, count: int) -> Project:
    """A project in `root` (created) with a history of `count` revisions."""
    (root / "alembic").mkdir(parents=True)
    (root / "alembic_raw").mkdir()
    shutil.copy(REPO / "alembic.ini", root / "alembic.ini")
    shutil.copy(REPO / "tasks.py", root / "tasks.py")
    for name in ("env.py", "script.py.mako"):
        shutil.copy(REPO / "alembic" / name, root / "alembic" / name)
    shutil.copy(REPO / "alembic" / "script.py.mako", root / "alembic_raw" / "script.py.mako")
    (root / "alembic_raw" / "env.py").write_text(RAW_ENV, encoding="utf-8")
    (root / "alembic_raw.ini").write_text(RAW_INI, encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "bench_models.py").write_text(NO_MODELS, encoding="utf-8")
    history = write_history(root / "alembic" / "versions", count)
    return Project(root, history)


def make_one_task_project(root: Path, source: str = ONE_TASK) -> Path:
    """The start-up baseline: a `tasks.py` with a single task and nothing else."""
    root.mkdir(parents=True)
    (root / "tasks.py").write_text(source, encoding="utf-8")
    return root
