"""A scratch project around a real history, its databases, raw `alembic` and the real `inv`.

The project is what a team adopting dbtasks would have: the wheel's versions folder as it
is, `alembic/env.py` and `alembic/script.py.mako` copied from this repository's root (the
runtime env.py), `[tool.dbtasks] schema = "public"` with no models, and the application
modules the revisions import on a sys.path entry of its own (`app/`). Beside it sits the
plain env.py the project ran raw Alembic with (`raw/`, `raw-alembic.ini`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtasks import pg
from dbtasks.catalog import Description, describe
from dbtasks.settings import Settings
from tests.real import wheels
from tests.real.histories import History
from tests.support import REPO, scratch_grant

INV = [sys.executable, "-m", "invoke"]
ALEMBIC = [sys.executable, "-m", "alembic"]
Run = subprocess.CompletedProcess[str]
TIMEOUT = 900

TASKS = 'from dbtasks.tasks import namespace\n\n__all__ = ["namespace"]\n'

# The env.py the project ran raw Alembic with: the URL from `-x url=` or sqlalchemy.url,
# no models, and what the package's own env.py configures that changes how revisions run.
PLAIN_ENV = '''"""Plain Alembic environment: `alembic -x url=... upgrade heads`."""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
OPTIONS = {options!r}


def database_url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return given or config.get_main_option("sqlalchemy.url")


if context.is_offline_mode():
    context.configure(url=database_url(), literal_binds=True,
                      dialect_opts={{"paramstyle": "named"}}, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
'''

# What a Postgres server holds that no history made: left out of every comparison.
_SYSTEM_SCHEMAS = "nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"


def _ini(script_location: str) -> str:
    return (
        "[alembic]\n"
        f"script_location = %(here)s/{script_location}\n"
        "version_locations = %(here)s/migrations/versions\n"
        "prepend_sys_path = %(here)s/app\n"
        "path_separator = os\n"
    )


@dataclass(frozen=True)
class Project:
    root: Path
    history: History

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def revision_files(self) -> list[Path]:
        return sorted(p for p in self.versions.glob("*.py") if p.name != "__init__.py")

    def text(self) -> str:
        return "\n".join(p.read_text() for p in self.revision_files())

    def inv(self, db: Database, *args: str) -> Run:
        """The real `inv` in this project, on `db`, stdin not a terminal."""
        ep = db.cluster.endpoint
        env = {
            **_clean_environment(),
            "DB_HOST": ep.host,
            "DB_PORT": str(ep.port),
            "DB_USER": ep.user,
            "DB_PASS": ep.password,
            "DB_NAME": db.name,
            "DB_SCHEMA": "public",
            "DB_DATA_DIR": str(db.cluster.data_dir),
            "DB_HEALTH_TIMEOUT": "10",
            "DB_LOCK_TIMEOUT": "60",
        }
        return _run([*INV, *args], self.root, env)

    def alembic(self, db: Database, *args: str) -> Run:
        """Raw Alembic as the project ran it: its plain env.py, the URL in `-x url=`."""
        command = [*ALEMBIC, "-c", "raw-alembic.ini", "-x", f"url={db.url}", *args]
        return _run(command, self.root, _clean_environment())

    def alembic_plain(self, *args: str) -> Run:
        """Raw Alembic for what needs no database (`heads`, `history`)."""
        return _run([*ALEMBIC, "-c", "raw-alembic.ini", *args], self.root, _clean_environment())


def build_project(root: Path, history: History) -> Project:
    """Write the scratch project for `history` into `root` (the wheel comes from the
    cache, or PyPI)."""
    whl = wheels.wheel(history.project, history.version, history.sha256)
    root.mkdir(parents=True, exist_ok=True)
    wheels.extract(whl, history.versions, root / "migrations" / "versions")
    (root / "upstream").mkdir()
    (root / "upstream" / "env.py").write_text(wheels.read(whl, history.env_py))  # reference
    app = root / "app"
    for member, target in history.copied.items():
        (app / target).parent.mkdir(parents=True, exist_ok=True)
        (app / target).write_text(wheels.read(whl, member))
    for target, source in history.stubs.items():
        (app / target).parent.mkdir(parents=True, exist_ok=True)
        (app / target).write_text(source)
    (root / "alembic").mkdir()
    for name in ("env.py", "script.py.mako"):
        shutil.copy(REPO / "alembic" / name, root / "alembic" / name)
    (root / "alembic.ini").write_text(_ini("alembic"))
    (root / "raw").mkdir()
    (root / "raw" / "env.py").write_text(PLAIN_ENV.format(options=dict(history.env_options)))
    shutil.copy(REPO / "alembic" / "script.py.mako", root / "raw" / "script.py.mako")
    (root / "raw-alembic.ini").write_text(_ini("raw"))
    (root / "pyproject.toml").write_text('[tool.dbtasks]\nschema = "public"\n')
    (root / "tasks.py").write_text(TASKS)
    return Project(root, history)


@dataclass(frozen=True)
class Database:
    name: str
    cluster: Settings

    @property
    def url(self) -> str:
        """Its URL with the password in it, for raw Alembic (never printed by a test)."""
        return self.cluster.endpoint.sqlalchemy_url(self.name).render_as_string(hide_password=False)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with pg.session(self.cluster.endpoint, self.name) as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def user_schemas(self) -> list[str]:
        return [
            str(r[0])
            for r in self.rows(f"SELECT nspname FROM pg_namespace WHERE {_SYSTEM_SCHEMAS}")
        ]

    def extensions(self) -> set[tuple[str, str]]:
        return {
            (str(r[0]), str(r[1]))
            for r in self.rows(
                "SELECT e.extname, n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace"
            )
        }

    def describe(self, schemas: Iterable[str]) -> Description:
        with pg.session(self.cluster.endpoint, self.name) as cur:
            return describe(cur, list(schemas))

    def version(self) -> list[str]:
        return sorted(
            str(r[0]) for r in self.rows("SELECT version_num FROM public.alembic_version")
        )


@dataclass
class Databases:
    """Databases on the session cluster, all named `real_<tag>_<hex>`; `drop_all` drops
    them and every database dbtasks derived from their names (snapshots, scratch ones)."""

    cluster: Settings
    tag: str
    made: list[str] = field(default_factory=list)

    def name(self) -> str:
        name = f"real_{self.tag}_{uuid.uuid4().hex[:10]}"
        self.made.append(name)
        return name

    def new(self, template: str | None = None) -> Database:
        """An empty database: `template` "template0" is one as any Postgres server makes
        it; the default is the cluster's own (template1)."""
        db = Database(self.name(), self.cluster)
        with pg.maintenance(self.cluster.endpoint) as cur:
            pg.create_database(cur, db.name, scratch_grant(self.cluster, db.name), template)
        return db

    def copy(self, of: Database) -> Database:
        return self.new(template=of.name)

    def drop(self, *made: str) -> None:
        """Drop `made` (default: all made here) and the databases named after them."""
        prefixes = made or tuple(self.made)
        with pg.maintenance(self.cluster.endpoint) as cur:
            cur.execute("SELECT datname FROM pg_database")
            names = [str(r[0]) for r in cur.fetchall()]
            for name in names:
                if name.startswith(prefixes):
                    pg.drop_database(cur, name, scratch_grant(self.cluster, name))


@dataclass(frozen=True)
class Built:
    """One history built twice: by raw Alembic and by dbtasks (tests judge the runs)."""

    project: Project
    databases: Databases
    raw: Database  # raw `alembic upgrade heads`, on a database as any server makes it
    ours: Database  # `inv db.upgrade`, on a database of the dbtasks cluster
    raw_upgrade: Run
    our_upgrade: Run
    heads: list[str]  # as raw `alembic heads` lists them


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    print(f"[{took:6.1f}s] exit {result.returncode}: {' '.join(_shown(command))}")
    return result


def _shown(command: list[str]) -> list[str]:
    return ["url=***" if part.startswith("url=") else part for part in command]


def ok(result: Run) -> str:
    """The stdout of a command that must succeed without a traceback."""
    assert result.returncode == 0, _tail(result)
    assert "Traceback" not in result.stderr + result.stdout, _tail(result)
    return result.stdout


def ok_json(result: Run) -> Any:
    """The JSON a `--json` command printed: exit 0 or 3 (a failing finding), no traceback,
    and stdout one JSON document."""
    assert result.returncode in (0, 3), _tail(result)
    assert "Traceback" not in result.stderr + result.stdout, _tail(result)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        head = "\n".join(result.stdout.splitlines()[:15])
        raise AssertionError(
            f"stdout is not JSON ({exc}); it starts:\n{head}\n{_tail(result)}"
        ) from None


def _tail(result: Run) -> str:
    return (
        f"exit {result.returncode}\n--- stdout (end)\n{result.stdout[-2500:]}"
        f"\n--- stderr (end)\n{result.stderr[-4000:]}"
    )
