"""Scratch databases for checks that must build and tear down schemas: never the
developer's database.

A scratch database is a write on its server: the guard grants it under the rules of any
write (never production, the pooler or hosted Supabase; another host only with
`--allow-remote`), or refuses, and the checks that need it say so. On the same server when
the role may create databases; otherwise on a throwaway native cluster. Whatever happens,
Ctrl-C included, the scratch database (or cluster) is gone when the block ends.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import guard, log, pg
from dbtasks.errors import DbTasksError
from dbtasks.guard import Intent

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import Grant, ScratchSpace
    from dbtasks.settings import Settings

logger = logging.getLogger("dbtasks.validate")


def can_create_databases(settings: Settings) -> bool:
    """The role may create databases on the server, which answers."""
    import psycopg2

    from dbtasks.errors import HealthError
    from dbtasks.health import probe

    try:
        # The maintenance database: the configured one need not exist yet (a fresh CI server).
        probe(replace(settings.endpoint, database=pg.MAINTENANCE_DB))
        with pg.maintenance(settings.endpoint) as cur:
            cur.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cur.fetchone()
    except (HealthError, OSError, psycopg2.Error) as exc:
        log.event(logger, "validate.no_createdb", f"cannot create databases there: {exc}")
        return False
    return bool(row and row[0])


@dataclass(frozen=True)
class Scratch:
    """A scratch database: its settings, and the grant that covers it."""

    settings: Settings
    grant: Grant


@contextmanager
def scratch_database(
    settings: Settings, console: Console, allow_remote: bool = False
) -> Iterator[Scratch]:
    """A new empty database, dropped when the block ends; the guard's refusal (exit 4)
    when the server is not one dbtasks may write to."""
    space = guard.scratch_space(settings, "build a scratch database", allow_remote)
    if can_create_databases(settings):
        with _on_server(settings, space) as scratch:
            _announce(scratch.settings, "server")
            yield scratch
        return
    with own_cluster(settings, console) as scratch:
        _announce(scratch.settings, "cluster")
        yield scratch


def _announce(scratch: Settings, where: str) -> None:
    place = "the same server" if where == "server" else "a throwaway native cluster"
    message = f"scratch database {scratch.endpoint.database} on {place}"
    log.event(logger, "validate.scratch", message, logging.DEBUG, where=where)


@contextmanager
def _on_server(settings: Settings, space: ScratchSpace) -> Iterator[Scratch]:
    from dbtasks.snapshot import derived_name

    name = derived_name(settings.endpoint.database, "validate", uuid.uuid4().hex[:12])
    granted = space.grant(name)
    with pg.maintenance(settings.endpoint) as cur:
        pg.create_database(cur, name, granted)
    try:
        yield Scratch(_with_database(settings, name), granted)
    finally:
        _drop(settings, name, granted)


def _drop(settings: Settings, name: str, granted: Grant) -> None:
    """Drop the scratch database; a failure (the server gone) is logged, not raised over
    the error that ended the block."""
    import psycopg2

    try:
        with pg.maintenance(settings.endpoint) as cur:
            pg.drop_database(cur, name, granted)
    except (psycopg2.Error, DbTasksError) as exc:
        log.event(logger, "validate.scratch_left", f"could not drop {name}: {exc}", logging.WARNING)


@contextmanager
def own_cluster(settings: Settings, console: Console) -> Iterator[Scratch]:
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
        "DB_BASELINE": settings.baseline,
    }
    if settings.pg_bindir:
        environ["DB_PG_BINDIR"] = str(settings.pg_bindir)
    own = load_settings(environ=environ, root=root)
    stack = NativeStack(own)
    try:
        stack.up(console)
        scratch = replace(
            own,
            project_root=settings.project_root,
            metadata=settings.metadata,
            seeds=settings.seeds,
            version_table=settings.version_table,
        )
        yield Scratch(scratch, guard.grant(scratch, Intent.DESTROY, "validate"))
    finally:
        try:
            stack.destroy(guard.stack(own, Intent.DESTROY, "remove the scratch cluster"))
        except (DbTasksError, OSError) as exc:  # the error that ended the block matters more
            log.event(logger, "validate.cluster_left", f"{root}: {exc}", logging.WARNING)
        shutil.rmtree(root, ignore_errors=True)


def _with_database(settings: Settings, database: str) -> Settings:
    return replace(settings, endpoint=replace(settings.endpoint, database=database))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: Any = sock.getsockname()[1]
        return int(port)
