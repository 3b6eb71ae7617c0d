"""Every connection dbtasks opens, and database-level statements.

Connections are opened with the endpoint's libpq parameters, exactly as the guard
classified them. Plain psycopg2 is used where SQLAlchemy would cost too much start-up
(the reset fast path, the lock, the stack) or cannot work (CREATE and DROP DATABASE run
outside a transaction).
"""

from __future__ import annotations

import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dbtasks.grants import Grant
    from dbtasks.target import Endpoint

MAINTENANCE_DB = "postgres"
CONNECT_TIMEOUT = 10.0
# Set when Ctrl-C cancelled a running statement (which then fails with QueryCanceled).
interrupted = threading.Event()
_WATCH_EVERY = 0.5  # seconds between looks at a watched statement's guardian (the lock)
# Per thread: a connect's deadline, and what may stop the statement being waited for.
_local = threading.local()


def _wait(conn: Any) -> None:
    """psycopg2's wait callback: waits in Python, so Ctrl-C cancels the statement at once
    instead of after it ends (libpq's own blocking wait cannot be interrupted), a connect
    gives up at its deadline, and a watched statement is cancelled as soon as its guardian
    (the migration lock) says so."""
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    while True:
        try:
            state = conn.poll()
            if state == POLL_OK:
                return
            fd = conn.fileno()
            ready = select.select(
                [fd] if state == POLL_READ else [],
                [fd] if state == POLL_WRITE else [],
                [],
                _select_timeout(),
            )
            if not any(ready):
                _on_idle(conn)
        except KeyboardInterrupt:
            interrupted.set()
            conn.cancel()  # the server answers with an error, which ends the loop


def _select_timeout() -> float | None:
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is not None:
        return max(0.0, min(_WATCH_EVERY, deadline - time.monotonic()))
    return _WATCH_EVERY if getattr(_local, "watch", None) else None


def _on_idle(conn: Any) -> None:
    """No answer yet: a connect past its deadline fails; a watched statement whose
    guardian raises is cancelled (the guardian's error is kept for the caller)."""
    import psycopg2

    deadline = getattr(_local, "deadline", None)
    if deadline is not None:
        if time.monotonic() >= deadline:
            raise psycopg2.OperationalError("timeout expired")
        return
    watch = getattr(_local, "watch", None)
    if watch is None or getattr(_local, "stopped", None) is not None:
        return
    _local.watch = None  # the guardian's own queries wait here too: never re-enter it
    try:
        watch()
    except Exception as exc:
        _local.stopped = exc
        conn.cancel()
    finally:
        _local.watch = watch


@contextmanager
def watching(guardian: Callable[[], None] | None) -> Iterator[None]:
    """While the block runs, statements waited for on this thread are cancelled when
    `guardian()` raises; `stopped()` then returns what it raised."""
    _local.watch, _local.stopped = guardian, None
    try:
        yield
    finally:
        _local.watch = None


def stopped() -> Exception | None:
    """What stopped the last watched statement, if anything did."""
    found: Exception | None = getattr(_local, "stopped", None)
    return found


def connect(
    endpoint: Endpoint,
    database: str | None = None,
    application: str = "dbtasks",
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Any:
    """A psycopg2 connection to `database` (default: the endpoint's)."""
    import psycopg2
    from psycopg2.extensions import get_wait_callback, set_wait_callback

    given = endpoint.query.get("connect_timeout")
    if given is not None:  # the URL's own, read as libpq reads it
        connect_timeout = _timeout_option(str(given)) or connect_timeout
    if get_wait_callback() is None:  # once per process, then never switched off
        set_wait_callback(_wait)
    # With the wait callback libpq connects asynchronously and no longer honours
    # connect_timeout itself: the callback enforces the deadline (per thread).
    _local.deadline = time.monotonic() + max(1.0, connect_timeout)
    try:
        # No local holds the parameters: a traceback that shows locals shows no password.
        # dbtasks names its own sessions (the lock's holder is found by that name).
        return psycopg2.connect(
            **{**endpoint.connect_kwargs(database), "application_name": application}
        )
    finally:
        _local.deadline = None


def _timeout_option(text: str) -> float:
    """connect_timeout as libpq parses it (an integer; 0 or less: no limit of its own)."""
    import psycopg2

    try:
        seconds = int(text.strip())
    except ValueError:
        raise psycopg2.OperationalError(
            f'invalid integer value "{text}" for connection option "connect_timeout"'
        ) from None
    return float(max(seconds, 0))


def engine(endpoint: Endpoint, database: str | None = None) -> Engine:
    """A SQLAlchemy engine whose connections are exactly `connect`'s (no pool: a CLI run
    uses one connection once)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(
        "postgresql+psycopg2://",
        creator=lambda: connect(endpoint, database),
        poolclass=NullPool,
    )


@contextmanager
def session(
    endpoint: Endpoint, database: str | None = None, application: str = "dbtasks"
) -> Iterator[Any]:
    """An autocommit cursor on `database` (default: the endpoint's), closed afterwards."""
    conn = connect(endpoint, database, application)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


@contextmanager
def driver_cursor(connection: Any) -> Iterator[Any]:
    """A psycopg2 cursor on a SQLAlchemy connection's own driver connection, inside its
    transaction: for statements composed with `psycopg2.sql`, which SQLAlchemy's text()
    would parse for bind parameters."""
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cur:
        yield cur


def maintenance(endpoint: Endpoint) -> Any:
    """A session on the maintenance database, where databases are created and dropped."""
    return session(endpoint, MAINTENANCE_DB)


def database_exists(cur: Any, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return cur.fetchone() is not None


def create_database(cur: Any, name: str, grant: Grant, template: str | None = None) -> None:
    """CREATE DATABASE `name` (a clone of `template`): MIGRATE on `name`."""
    from psycopg2 import sql

    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, cur, database=name)
    if template:
        _release_spare(template)  # a template must have no session open on it
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    cur.execute(statement)


def _release_spare(database: str) -> None:
    """Close the health probe's kept connection when it is on `database`."""
    health = sys.modules.get("dbtasks.health")
    if health is not None:
        health.release(database)


def create_database_if_missing(cur: Any, name: str, grant: Grant) -> None:
    import psycopg2

    if database_exists(cur, name):
        return
    # A parallel run may create it first (racing creators fail on the catalog's unique
    # index rather than with DuplicateDatabase): either way it exists, as wanted.
    with suppress(psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
        create_database(cur, name, grant)


def drop_database(cur: Any, name: str, grant: Grant) -> None:
    """Drop `name`, ending its sessions first; a template flag is lifted so it can go.
    DESTROY on `name`."""
    from psycopg2 import sql

    from dbtasks.guard import Intent

    grant.require(Intent.DESTROY, cur, database=name)
    _release_spare(name)
    ident = sql.Identifier(name)
    cur.execute("SELECT datistemplate FROM pg_database WHERE datname = %s", (name,))
    row = cur.fetchone()
    if row is None:
        return
    if row[0]:
        cur.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
    if cur.connection.server_version >= 130000:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        return
    cur.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))


def drop_schema(cur: Any, schema: str, grant: Grant) -> None:
    """DROP SCHEMA ... CASCADE on the cursor's database: DESTROY on that schema."""
    from psycopg2 import sql

    from dbtasks.guard import Intent

    grant.require(Intent.DESTROY, cur, schema=schema)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def drop_table(cur: Any, schema: str, table: str, grant: Grant) -> None:
    """DROP TABLE schema.table on the cursor's database: DESTROY on that schema."""
    from psycopg2 import sql

    from dbtasks.guard import Intent

    grant.require(Intent.DESTROY, cur, schema=schema)
    cur.execute(
        sql.SQL("DROP TABLE IF EXISTS {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    )
