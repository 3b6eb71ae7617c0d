"""The Postgres server the benchmarks run on, started by dbtasks' own native backend.

One cluster serves every comparison except the cold `db.init` one (which makes clusters
of its own); each side gets databases of its own on it. The password travels in
DB_PASS and PGPASSWORD only, never on a command line.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.checks import SCHEMA, DbState, read_state
from dbtasks.stack.binaries import DEBIAN_ROOT, PgBinaries, find_binaries

if TYPE_CHECKING:
    from dbtasks.settings import Settings
    from dbtasks.target import Endpoint

PASSWORD = "bench p@ss:w/rd%"  # URL-special characters: both sides must cope
USER = "postgres"
HOST = "127.0.0.1"


def ours_env(port: int, database: str, data_dir: Path, password: str) -> dict[str, str]:
    """What points `inv` at a database (the native backend, so `stack.up` finds the cluster)."""
    return {
        "DB_HOST": HOST,
        "DB_PORT": str(port),
        "DB_USER": USER,
        "DB_PASS": password,
        "DB_NAME": database,
        "DB_SCHEMA": SCHEMA,
        "DB_DATA_DIR": str(data_dir),
        "DB_BACKEND": "native",
        "DB_HEALTH_TIMEOUT": "30",
        "DB_LOCK_TIMEOUT": "30",
    }


def raw_env(port: int, database: str, password: str) -> dict[str, str]:
    """What points raw Alembic's env.py (and psql) at a database; libpq reads PGPASSWORD."""
    return {
        "BENCH_DATABASE_URL": f"postgresql+psycopg2://{USER}@{HOST}:{port}/{database}",
        "BENCH_SCHEMA": SCHEMA,
        "PGPASSWORD": password,
    }


def libpq_args(port: int, database: str) -> list[str]:
    """Where psql and createdb connect: everything but the password."""
    return ["-h", HOST, "-p", str(port), "-U", USER, "-d", database]


def find_psql(binaries: PgBinaries) -> str | None:
    """psql next to the server binaries, on PATH, or in Debian's tree; None when missing."""
    beside = binaries.bindir / "psql"
    if beside.is_file():
        return str(beside)
    found = shutil.which("psql")
    if found:
        return found
    debian = sorted(DEBIAN_ROOT.glob("*/bin/psql")) if DEBIAN_ROOT.is_dir() else []
    return str(debian[-1]) if debian else None


@dataclass
class Server:
    settings: Settings
    binaries: PgBinaries
    psql: str | None

    @property
    def endpoint(self) -> Endpoint:
        return self.settings.endpoint

    @property
    def port(self) -> int:
        return self.endpoint.port

    @property
    def password(self) -> str:
        return self.endpoint.password

    def ours_env(self, database: str) -> dict[str, str]:
        return ours_env(self.port, database, self.settings.data_dir, self.password)

    def raw_env(self, database: str) -> dict[str, str]:
        return raw_env(self.port, database, self.password)

    def psql_args(self, database: str) -> list[str]:
        """psql quiet, without ~/.psqlrc, stopping at the first error."""
        assert self.psql is not None
        return [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *libpq_args(self.port, database)]

    @contextmanager
    def admin(self) -> Iterator[Any]:
        """An autocommit cursor on the maintenance database."""
        import psycopg2

        conn = psycopg2.connect(**self.endpoint.connect_kwargs("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def recreate(self, database: str, template: str | None = None) -> None:
        """A new, empty (or cloned) database of that name, whatever was there before."""
        from psycopg2 import sql

        ident = sql.Identifier(database)
        with self.admin() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            create = sql.SQL("CREATE DATABASE {}").format(ident)
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            cur.execute(create)

    def exists(self, database: str) -> bool:
        return bool(self.query("SELECT 1 FROM pg_database WHERE datname = %s", database))

    def state(self, database: str) -> DbState:
        return read_state(self.endpoint, database)

    def query(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        with self.admin() as cur:
            cur.execute(statement, params)
            return list(cur.fetchall())


@contextmanager
def bench_server(root: Path) -> Iterator[Server]:
    """A native cluster in `root`/pgdata on a free port, destroyed afterwards."""
    from dbtasks.console import Console
    from dbtasks.settings import load_settings
    from dbtasks.stack.native import NativeStack
    from tests.support import free_port

    environ = {
        "DB_PORT": str(free_port()),
        "DB_PASS": PASSWORD,
        "DB_DATA_DIR": str(root / "pgdata"),
        "DB_SCHEMA": SCHEMA,
        "DB_HEALTH_TIMEOUT": "30",
    }
    settings = load_settings(environ=environ, root=root)
    stack = NativeStack(settings)
    stack.up(Console(out=io.StringIO()))
    try:
        binaries = find_binaries(settings.pg_bindir)
        yield Server(settings, binaries, find_psql(binaries))
    finally:
        from dbtasks import guard

        stack.destroy(guard.stack(settings, guard.Intent.DESTROY, "remove the bench cluster"))
