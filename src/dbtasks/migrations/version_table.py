"""The database side of the history: which revisions the version table records.

Read with plain psycopg2, so that `db.status`, a no-op `db.upgrade` and the reset fast
path never import SQLAlchemy or Alembic.
"""

from __future__ import annotations

from typing import Any

VERSION_TABLE = "alembic_version"


def read_current(cur: Any, schema: str, table: str = VERSION_TABLE) -> tuple[str, ...]:
    """The revisions recorded in `schema.table`, sorted; none before the first upgrade."""
    from psycopg2 import sql

    if not exists(cur, schema, table):
        return ()
    cur.execute(
        sql.SQL("SELECT version_num FROM {}.{} ORDER BY 1").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
    )
    return tuple(str(row[0]) for row in cur.fetchall())


def exists(cur: Any, schema: str, table: str = VERSION_TABLE) -> bool:
    cur.execute("SELECT to_regclass(%s)", (_qualified(cur, schema, table),))
    return cur.fetchone()[0] is not None


def _qualified(cur: Any, schema: str, table: str) -> str:
    from psycopg2.extensions import quote_ident

    return f"{quote_ident(schema, cur)}.{quote_ident(table, cur)}"
