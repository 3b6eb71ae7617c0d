"""Looking at a database from outside the command under test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2

from dbtasks.target import Endpoint

SCHEMA = "app"  # every scratch project's DB_SCHEMA (tests/projects.make_project)


@contextmanager
def cursor(endpoint: Endpoint, database: str | None = None) -> Iterator[Any]:
    """An autocommit cursor, on the endpoint's database or on `database`."""
    conn = psycopg2.connect(**endpoint.connect_kwargs(database))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def database_exists(endpoint: Endpoint, name: str) -> bool:
    with cursor(endpoint, "postgres") as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None


def create_database(endpoint: Endpoint) -> None:
    from psycopg2 import sql

    with cursor(endpoint, "postgres") as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(endpoint.database)))


def advisory_locks(endpoint: Endpoint) -> int:
    """Advisory locks anyone holds or waits for in the endpoint's database."""
    with cursor(endpoint, "postgres") as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = %s)",
            (endpoint.database,),
        )
        return int(cur.fetchone()[0])


def locks_released(endpoint: Endpoint, within: float = 10.0) -> bool:
    """True once no advisory lock is left; a dropped client takes the server a moment."""
    deadline = time.monotonic() + within
    while advisory_locks(endpoint):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def running(cur: Any, database: str, needle: str) -> bool:
    """Whether a statement containing `needle` is executing in `database` right now."""
    cur.execute(
        "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
        "AND pid <> pg_backend_pid() AND strpos(query, %s) > 0",
        (database, needle),
    )
    return cur.fetchone() is not None


@dataclass(frozen=True)
class State:
    """The schema as the version table, the tables and the two logs describe it."""

    versions: tuple[str, ...]
    tables: frozenset[str]
    applied_log: dict[str, int]  # rev -> rows the revisions themselves inserted
    journal: dict[str, int]  # rev -> 'applied' rows in dbtasks' timing history

    def applied(self, chain: list[str]) -> list[str]:
        """The revisions of a linear `chain` the version table says are applied."""
        if not self.versions:
            return []
        assert len(self.versions) == 1, self.versions
        return chain[: chain.index(self.versions[0]) + 1]


def read_state(endpoint: Endpoint) -> State:
    if not database_exists(endpoint, endpoint.database):  # killed before it was created
        return State((), frozenset(), {}, {})
    with cursor(endpoint) as cur:
        tables = _tables(cur)
        versions = _column(cur, "SELECT version_num FROM {}.alembic_version", tables)
        logged = _counts(cur, "SELECT rev, count(*) FROM {}.applied_log GROUP BY rev", tables)
        journal = _counts(
            cur,
            "SELECT revision, count(*) FROM {}.dbtasks_revision_log "
            "WHERE outcome = 'applied' AND direction = 'upgrade' GROUP BY revision",
            tables,
        )
    return State(tuple(sorted(versions)), frozenset(tables), logged, journal)


def _tables(cur: Any) -> set[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,))
    return {row[0] for row in cur.fetchall()}


def _table_of(query: str) -> str:
    return query.split("{}.", 1)[1].split()[0]


def _column(cur: Any, query: str, tables: set[str]) -> list[str]:
    if _table_of(query) not in tables:
        return []
    cur.execute(query.format(SCHEMA))
    return [row[0] for row in cur.fetchall()]


def _counts(cur: Any, query: str, tables: set[str]) -> dict[str, int]:
    if _table_of(query) not in tables:
        return {}
    cur.execute(query.format(SCHEMA))
    return {row[0]: int(row[1]) for row in cur.fetchall()}


def assert_agrees(state: State, chain: list[str]) -> list[str]:
    """The version table, the tables and both logs tell one story; returns what is applied."""
    applied = state.applied(chain)
    made = {t for t in state.tables if t.startswith("t") and t[1:].isdigit()}
    assert made == {f"t{chain.index(rev) + 1:03d}" for rev in applied}, state
    assert state.applied_log == dict.fromkeys(applied, 1), state
    assert state.journal == dict.fromkeys(applied, 1), state
    return applied
