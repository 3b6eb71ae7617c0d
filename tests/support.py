"""Helpers shared by the test tiers: free ports, reachable scratch directories, settings."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbtasks import guard
from dbtasks.grants import Grant
from dbtasks.guard import Intent
from dbtasks.settings import Settings, load_settings
from dbtasks.target import Endpoint

# Every URL-special character plus a space: it must work everywhere and show nowhere.
HOSTILE_PASSWORD = "p%40ss:w/rd#?&+= x"
REPO = Path(__file__).resolve().parents[1]


def sql(endpoint: Endpoint, statement: str, database: str | None = None) -> list[Any]:
    """Rows of `statement` (none for DDL), committed, on a plain psycopg2 connection: the
    tests' and the bench's own reads and writes, never through dbtasks."""
    import psycopg2

    conn = psycopg2.connect(**endpoint.connect_kwargs(database))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A directory the unprivileged server user can reach (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix=f"dbtasks-{prefix}-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_settings(root: Path, **env: Any) -> Settings:
    """Settings for a scratch project: nothing read from the developer's own environment."""
    base = {
        "DB_PORT": str(free_port()),
        "DB_PASS": HOSTILE_PASSWORD,
        "DB_DATA_DIR": str(root / "pgdata"),
        "DB_HEALTH_TIMEOUT": "30",
    }
    base.update({k: str(v) for k, v in env.items()})
    return load_settings(environ=base, root=root)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes an `inv` subprocess use `settings`."""
    ep = settings.endpoint
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    env.update(
        DB_HOST=ep.host,
        DB_PORT=str(ep.port),
        DB_USER=ep.user,
        DB_PASS=ep.password,
        DB_NAME=ep.database,
        DB_SCHEMA=settings.schema,
        DB_DATA_DIR=str(settings.data_dir),
        DB_BACKEND=settings.backend,
    )
    return env


def destroy(stack: Any) -> str:
    """`stack.destroy` with the guard's grant, as `stack.down --destroy --yes` gets it."""
    return str(stack.destroy(guard.stack(stack.settings, Intent.DESTROY, "remove a test stack")))


def scratch_grant(settings: Settings, name: str) -> Grant:
    """DESTROY on scratch database `name` of the settings' server, from the guard."""
    return guard.scratch_space(settings, "make a test database").grant(name)
