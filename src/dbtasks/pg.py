"""Every connection dbtasks opens, and database-level statements.

Connections are opened with the endpoint's libpq parameters, exactly as the guard
classified them. Plain psycopg2 is used where SQLAlchemy would cost too much start-up
(the reset fast path, the lock, the stack) or cannot work (CREATE and DROP DATABASE run
outside a transaction).
"""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dbtasks.target import Endpoint

MAINTENANCE_DB = "postgres"
CONNECT_TIMEOUT = 10.0
# Set when Ctrl-C cancelled a running statement (which then fails with QueryCanceled).
interrupted = threading.Event()


def _wait(conn: Any) -> None:
    """psycopg2's wait callback: waits in Python, so Ctrl-C cancels the statement at once
    instead of after it ends (libpq's own blocking wait cannot be interrupted)."""
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    while True:
        try:
            state = conn.poll()
            if state == POLL_OK:
                return
            fd = conn.fileno()
            select.select(
                [fd] if state == POLL_READ else [], [fd] if state == POLL_WRITE else [], []
            )
        except KeyboardInterrupt:
            interrupted.set()
            conn.cancel()  # the server answers with an error, which ends the loop


def connect(
    endpoint: Endpoint,
    database: str | None = None,
    application: str = "dbtasks",
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Any:
    """A psycopg2 connection to `database` (default: the endpoint's)."""
    import psycopg2
    from psycopg2.extensions import set_wait_callback

    params = {
        "connect_timeout": str(max(1, round(connect_timeout))),
        **endpoint.connect_kwargs(database),
    }
    # libpq honours connect_timeout only in its own blocking connect, so the wait callback
    # (which makes statements interruptible) is switched on once the connection is made.
    set_wait_callback(None)
    try:
        return psycopg2.connect(**params, application_name=application)
    finally:
        set_wait_callback(_wait)


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


def maintenance(endpoint: Endpoint) -> Any:
    """A session on the maintenance database, where databases are created and dropped."""
    return session(endpoint, MAINTENANCE_DB)


def database_exists(cur: Any, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return cur.fetchone() is not None


def create_database(cur: Any, name: str, template: str | None = None) -> None:
    from psycopg2 import sql

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    cur.execute(statement)


def create_database_if_missing(cur: Any, name: str) -> None:
    import psycopg2

    if database_exists(cur, name):
        return
    # A parallel run may create it first (racing creators fail on the catalog's unique
    # index rather than with DuplicateDatabase): either way it exists, as wanted.
    with suppress(psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
        create_database(cur, name)


def drop_database(cur: Any, name: str) -> None:
    """Drop `name`, ending its sessions first; a template flag is lifted so it can go."""
    from psycopg2 import sql

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
