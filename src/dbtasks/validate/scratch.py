"""Scratch databases for checks that must build and tear down schemas: never the
developer's database.

On the same server when the role may create databases (and the server is not marked
production); otherwise on a throwaway native cluster. Whatever happens, Ctrl-C included,
the scratch database (or cluster) is gone when the block ends.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import log, pg

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings

logger = logging.getLogger("dbtasks.validate")


def can_create_databases(settings: Settings) -> bool:
    """The role may create databases on a server that is not production, and answers."""
    from dbtasks.errors import HealthError
    from dbtasks.health import probe

    if settings.is_production:
        return False
    try:
        # The maintenance database: the configured one need not exist yet (a fresh CI server).
        probe(replace(settings.endpoint, database=pg.MAINTENANCE_DB))
        with pg.maintenance(settings.endpoint) as cur:
            cur.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cur.fetchone()
    except (HealthError, OSError):
        return False
    except Exception:
        return False
    return bool(row and row[0])


@contextmanager
def scratch_database(settings: Settings, console: Console) -> Iterator[Settings]:
    """Settings for a new empty database, dropped when the block ends."""
    if can_create_databases(settings):
        with _on_server(settings) as scratch:
            _announce(scratch, "server")
            yield scratch
        return
    with _own_cluster(settings, console) as scratch:
        _announce(scratch, "cluster")
        yield scratch


def _announce(scratch: Settings, where: str) -> None:
    place = "the same server" if where == "server" else "a throwaway native cluster"
    message = f"scratch database {scratch.endpoint.database} on {place}"
    log.event(logger, "validate.scratch", message, logging.DEBUG, where=where)


@contextmanager
def _on_server(settings: Settings) -> Iterator[Settings]:
    from dbtasks.snapshot import derived_name

    name = derived_name(settings.endpoint.database, "validate", uuid.uuid4().hex[:12])
    with pg.maintenance(settings.endpoint) as cur:
        pg.create_database(cur, name)
    try:
        yield _with_database(settings, name)
    finally:
        with suppress(Exception), pg.maintenance(settings.endpoint) as cur:
            pg.drop_database(cur, name)


@contextmanager
def _own_cluster(settings: Settings, console: Console) -> Iterator[Settings]:
    """A native cluster in a temporary directory, on a free port, destroyed afterwards."""
    from dbtasks.settings import load_settings
    from dbtasks.stack.native import NativeStack

    root = Path(tempfile.mkdtemp(prefix="dbtasks-validate-"))
    root.chmod(0o755)  # the server account must reach the data directory below it
    environ = {
        "DB_PORT": str(_free_port()),
        "DB_PASS": uuid.uuid4().hex,
        "DB_NAME": "validate",
        "DB_SCHEMA": settings.schema,
        "DB_DATA_DIR": str(root / "pgdata"),
        "DB_BACKEND": "native",
    }
    if settings.pg_bindir:
        environ["DB_PG_BINDIR"] = str(settings.pg_bindir)
    own = load_settings(environ=environ, root=root)
    stack = NativeStack(own)
    try:
        stack.up(console)
        yield replace(
            own,
            project_root=settings.project_root,
            metadata=settings.metadata,
            seeds=settings.seeds,
            version_table=settings.version_table,
        )
    finally:
        with suppress(Exception):
            stack.destroy()
        shutil.rmtree(root, ignore_errors=True)


def _with_database(settings: Settings, database: str) -> Settings:
    return replace(settings, endpoint=replace(settings.endpoint, database=database))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: Any = sock.getsockname()[1]
        return int(port)
