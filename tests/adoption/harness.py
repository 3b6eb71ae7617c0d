"""Databases on the session cluster, the real `inv`, and raw `alembic`, for adoption tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtasks import pg
from dbtasks.catalog import Description, describe
from dbtasks.settings import Settings
from tests.support import scratch_grant

ALEMBIC = str(Path(sys.executable).with_name("alembic"))
INV = [sys.executable, "-m", "invoke"]
Run = subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class Database:
    """One database on the session cluster."""

    name: str
    cluster: Settings

    @property
    def url(self) -> str:
        """Its URL with the password in it, for raw Alembic (never printed by a test)."""
        url = self.cluster.endpoint.sqlalchemy_url(self.name)
        return url.render_as_string(hide_password=False)

    def describe(self, schemas: Iterable[str]) -> Description:
        with pg.session(self.cluster.endpoint, self.name) as cur:
            return describe(cur, list(schemas))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with pg.session(self.cluster.endpoint, self.name) as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]


@dataclass
class Databases:
    """Creates databases on the cluster (empty, or copies of another) and drops them all."""

    cluster: Settings
    made: list[Database] = field(default_factory=list)

    def new(self, copy_of: Database | None = None) -> Database:
        db = Database(f"adopt_{uuid.uuid4().hex[:12]}", self.cluster)
        with pg.maintenance(self.cluster.endpoint) as cur:
            grant = scratch_grant(self.cluster, db.name)
            pg.create_database(cur, db.name, grant, copy_of.name if copy_of else None)
        self.made.append(db)
        return db

    def drop_all(self) -> None:
        with pg.maintenance(self.cluster.endpoint) as cur:
            for db in self.made:
                pg.drop_database(cur, db.name, scratch_grant(self.cluster, db.name))


def clean_environment() -> dict[str, str]:
    """The process environment without any database setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}


@dataclass
class Project:
    """An existing Alembic project in `root`; its own settings live in its pyproject.toml."""

    root: Path
    ini: str = "alembic.ini"

    def inv(self, db: Database, *args: str, **env: str) -> Run:
        """The real `inv` in this project, on `db`, stdin not a terminal."""
        ep = db.cluster.endpoint
        connection = {
            "DB_HOST": ep.host,
            "DB_PORT": str(ep.port),
            "DB_USER": ep.user,
            "DB_PASS": ep.password,
            "DB_NAME": db.name,
            "DB_DATA_DIR": str(db.cluster.data_dir),
            "DB_HEALTH_TIMEOUT": "10",
            "DB_LOCK_TIMEOUT": "30",
        }
        return _run([*INV, *args], self.root, {**clean_environment(), **connection, **env})

    def alembic(self, db: Database, *args: str, ini: str | None = None) -> Run:
        """Raw `alembic` from this environment, as the project ran it before dbtasks: the
        URL goes in `-x url=` and DATABASE_URL, whichever its env.py reads."""
        command = [ALEMBIC, "-c", ini or self.ini, "-x", f"url={db.url}", *args]
        return _run(command, self.root, {**clean_environment(), "DATABASE_URL": db.url})

    def alembic_with_url_in_ini(self, db: Database, *args: str) -> Run:
        """Raw `alembic` for the env.py `alembic init` writes: it reads the URL from the
        ini file only, so a copy of the ini gets it (escaped for interpolation)."""
        text = (self.root / self.ini).read_text()
        url = db.url.replace("%", "%%")
        raw = self.root / "raw-alembic.ini"
        raw.write_text(_set_option(text, "sqlalchemy.url", url))
        return self.alembic(db, *args, ini=raw.name)


def _set_option(ini: str, key: str, value: str) -> str:
    lines = [line for line in ini.splitlines() if not line.startswith(f"{key} ")]
    at = lines.index("[alembic]") + 1
    return "\n".join([*lines[:at], f"{key} = {value}", *lines[at:]]) + "\n"


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(result: Run) -> str:
    """The output of a command that must succeed without a traceback."""
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stdout
