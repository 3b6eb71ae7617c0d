"""What the benchmarks check around every timed run, read with plain SQL.

The checks never ask dbtasks or Alembic: a check that used the code under measurement
could agree with it when both are wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.history import History

if TYPE_CHECKING:
    from dbtasks.target import Endpoint

SCHEMA = "app"
# dbtasks' timing history lives beside the schema's tables; it is not the history's.
DIRTY = "bench-dirty"  # the name of the row a reset must throw away

_STATE_SQL = """
SELECT
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = %(s)s AND c.relname NOT LIKE 'dbtasks\\_revision\\_log%%'),
  (SELECT count(*) FROM pg_tables WHERE schemaname = %(s)s
     AND tablename NOT IN ('alembic_version', 'dbtasks_revision_log')),
  (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = %(s)s AND t.typtype = 'e'),
  (SELECT count(*) FROM pg_indexes WHERE schemaname = %(s)s AND indexname LIKE 'ix\\_%%'),
  (SELECT count(*) FROM information_schema.columns
     WHERE table_schema = %(s)s AND column_name = 'note'),
  to_regclass(%(v)s) IS NOT NULL,
  to_regclass(%(t)s) IS NOT NULL
"""


class CheckFailed(Exception):
    """A timed run's precondition or result is wrong: its time would measure something else."""


@dataclass(frozen=True)
class DbState:
    """Schema `app` of one database, as the checks see it."""

    relations: int
    tables: int
    enums: int
    indexes: int
    columns: int
    version: tuple[str, ...]
    dirty: int

    def describe(self) -> str:
        version = ",".join(self.version) or "no version"
        return (
            f"{version}, {self.tables} tables, {self.enums} enum types, "
            f"{self.indexes} indexes, {self.relations} relations"
        )


def read_state(endpoint: Endpoint, database: str, first_table: str = "t00001") -> DbState:
    import psycopg2

    conn = psycopg2.connect(**endpoint.connect_kwargs(database), application_name="bench check")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            names = {"s": SCHEMA, "v": f"{SCHEMA}.alembic_version", "t": f"{SCHEMA}.{first_table}"}
            cur.execute(_STATE_SQL, names)
            row = cur.fetchone()
            assert row is not None
            version: tuple[str, ...] = ()
            if row[5]:
                cur.execute(f"SELECT version_num FROM {SCHEMA}.alembic_version ORDER BY 1")
                version = tuple(str(r[0]) for r in cur.fetchall())
            dirty = 0
            if row[6]:
                cur.execute(
                    f"SELECT count(*) FROM {SCHEMA}.{first_table} WHERE name = %s", (DIRTY,)
                )
                dirty = int(cur.fetchone()[0])
    finally:
        conn.close()
    relations, tables, enums, indexes, columns = (int(n) for n in row[:5])
    return DbState(relations, tables, enums, indexes, columns, version, dirty)


def require_empty(state: DbState, where: str) -> None:
    """Before a from-empty run: nothing in the schema, no version table."""
    if state.relations or state.enums or state.version:
        raise CheckFailed(f"{where} is not empty before a from-empty run: {state.describe()}")


def require_at_head(state: DbState, history: History, where: str) -> None:
    """After an upgrade (or before a no-op): at head, holding every object of the history."""
    want = history.expected
    have = (state.tables, state.enums, state.indexes, state.columns)
    if state.version != (history.head,) or have != (
        want.tables,
        want.enums,
        want.indexes,
        want.columns,
    ):
        raise CheckFailed(
            f"{where} is not at head {history.head} with {want.tables} tables, "
            f"{want.enums} enum types, {want.indexes} indexes, {want.columns} added columns: "
            f"it has {state.describe()}, {state.columns} added columns"
        )


def require_dirty(state: DbState, where: str) -> None:
    if not state.dirty:
        raise CheckFailed(f"{where} holds no {DIRTY!r} row before a reset: nothing to undo")


def require_clean(state: DbState, where: str) -> None:
    if state.dirty:
        raise CheckFailed(f"{where} still holds the {DIRTY!r} row after a reset")


def mark_dirty(endpoint: Endpoint, database: str, table: str) -> None:
    """Leave a row a reset must throw away (the first table exists at any N)."""
    import psycopg2

    conn = psycopg2.connect(**endpoint.connect_kwargs(database), application_name="bench dirty")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {SCHEMA}.{table} (name) VALUES (%s)", (DIRTY,))
    finally:
        conn.close()
