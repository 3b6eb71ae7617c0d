"""Plain psycopg2 sessions and database-level statements.

Used where SQLAlchemy would cost too much start-up (the reset fast path, the lock, the
stack) or cannot work (CREATE and DROP DATABASE run outside a transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.urls import Endpoint

MAINTENANCE_DB = "postgres"


@contextmanager
def session(
    endpoint: Endpoint, database: str | None = None, application: str = "dbtasks"
) -> Iterator[Any]:
    """An autocommit cursor on `database` (default: the endpoint's), closed afterwards."""
    import psycopg2

    conn = psycopg2.connect(**endpoint.connect_kwargs(database), application_name=application)
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
