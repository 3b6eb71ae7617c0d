"""Existing projects as teams lay them out, written into a test's directory.

Each builder writes a complete project: alembic.ini (never a URL in it), an env.py, the
revisions, a two-line tasks.py and the `[tool.dbtasks]` settings the adoption needs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.adoption import legacy
from tests.adoption.harness import ALEMBIC, Project, clean_environment
from tests.adoption.histories import generic_history, qualified_history, two_folder_history
from tests.adoption.revisions import Rev, write

TASKS = 'from dbtasks.tasks import namespace\n\n__all__ = ["namespace"]\n'
# The three lines that hand env.py over to dbtasks (docs/adopting.md).
RUNTIME_ENV = "from dbtasks.adapter.runtime import run_migrations\n\nrun_migrations()\n"

# Alembic's cookbook env.py: a connection handed in by a program is used as it is;
# otherwise the URL comes from `-x url=`, DATABASE_URL or alembic.ini.
COOKBOOK_ENV = '''"""Migration environment of a project that predates dbtasks."""

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

config = context.config
target_metadata = None
OPTIONS = {options!r}
CREATE_SCHEMA = {create_schema!r}


def database_url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return given or os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={{"paramstyle": "named"}}, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_with(connection) -> None:
    if CREATE_SCHEMA:  # the version table lives there: it must exist first
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {{CREATE_SCHEMA}}"))
        connection.commit()
    context.configure(connection=connection, target_metadata=target_metadata, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_with(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


def ini(script_location: str, version_locations: list[str] | None = None) -> str:
    lines = [
        "[alembic]",
        f"script_location = %(here)s/{script_location}",
        "prepend_sys_path = .",
        "path_separator = os",
    ]
    if version_locations:
        joined = os.pathsep.join(f"%(here)s/{v}" for v in version_locations)
        lines.append(f"version_locations = {joined}")
    return "\n".join(lines) + "\n"


def cookbook_env(options: Mapping[str, object] | None = None, create_schema: str = "") -> str:
    return COOKBOOK_ENV.format(options=options or {}, create_schema=create_schema)


def _common(root: Path, settings: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tasks.py").write_text(TASKS)
    (root / "pyproject.toml").write_text(f"[tool.dbtasks]\n{settings}")


def legacy_project(root: Path, revs: list[Rev]) -> Project:
    """The long `public` history: its version table is `alembic_version_app`."""
    _common(root, 'schema = "public"\nversion_table = "alembic_version_app"\n')
    (root / "alembic.ini").write_text(ini("migrations"))
    (root / "migrations").mkdir()
    (root / "migrations" / "env.py").write_text(
        cookbook_env({"version_table": "alembic_version_app"})
    )
    (root / f"{legacy.HELPERS_MODULE}.py").write_text(legacy.HELPERS)
    write(root / "migrations" / "versions", revs)
    return Project(root)


def fresh_project(root: Path, versions: list[Path], helpers: dict[str, str]) -> Project:
    """A project set up for dbtasks from the start (the 3-line env.py, no models),
    holding copies of another project's revision files."""
    _common(root, "")
    (root / "alembic.ini").write_text(ini("alembic"))
    (root / "alembic" / "versions").mkdir(parents=True)
    (root / "alembic" / "env.py").write_text(RUNTIME_ENV)
    for name, text in helpers.items():
        (root / name).write_text(text)
    for path in versions:
        (root / "alembic" / "versions" / path.name).write_text(path.read_text())
    return Project(root)


def qualified_project(root: Path, runtime: bool = False, version_in_app: bool = True) -> Project:
    """Every operation names schema "app"; the version table is kept there too, or where
    the connection's search_path puts it (public)."""
    _common(root, 'schema = "app"\n')
    (root / "alembic.ini").write_text(ini("migrations"))
    (root / "migrations").mkdir()
    options = {"version_table_schema": "app"} if version_in_app else {}
    env = cookbook_env(options, create_schema="app")
    (root / "migrations" / "env.py").write_text(RUNTIME_ENV if runtime else env)
    write(root / "migrations" / "versions", qualified_history())
    return Project(root)


def two_folder_project(root: Path) -> Project:
    """`version_locations` names two folders, split with `path_separator = os`."""
    _common(root, 'schema = "public"\n')
    folders = ["migrations/schema", "migrations/data"]
    (root / "alembic.ini").write_text(ini("migrations", folders))
    (root / "migrations").mkdir()
    (root / "migrations" / "env.py").write_text(cookbook_env())
    write(root / folders[0], two_folder_history(), second=root / folders[1])
    return Project(root)


def generic_project(root: Path) -> Project:
    """`alembic init alembic`, untouched: its env.py and alembic.ini as Alembic writes them."""
    _common(root, 'schema = "public"\n')
    subprocess.run(
        [ALEMBIC, "init", "alembic"],
        cwd=root,
        env=clean_environment(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    write(root / "alembic" / "versions", generic_history())
    return Project(root)
