"""The database side of the history: where the version table is, and what it records.

Read with plain psycopg2, so that `db.status`, a no-op `db.upgrade` and the reset fast
path never import SQLAlchemy or Alembic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.settings import Settings

VERSION_TABLE = "alembic_version"
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


@dataclass(frozen=True)
class VersionTable:
    schema: str
    table: str

    def qualified(self, cur: Any) -> str:
        from psycopg2.extensions import quote_ident

        return f"{quote_ident(self.schema, cur)}.{quote_ident(self.table, cur)}"


def configured(settings: Settings) -> VersionTable:
    return VersionTable(settings.version_schema or settings.schema, settings.version_table)


def locate(cur: Any, settings: Settings) -> VersionTable:
    """Where this database keeps its history: the configured place or, when
    DB_VERSION_SCHEMA is not set and DB_SCHEMA holds none, the one schema that does (a
    database migrated before dbtasks): never a second version table."""
    wanted = configured(settings)
    if settings.version_schema or exists(cur, wanted):
        return wanted
    cur.execute(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %s AND c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) ORDER BY 1",
        (wanted.table, list(_SYSTEM_SCHEMAS)),
    )
    found = [str(row[0]) for row in cur.fetchall()]
    return VersionTable(found[0], wanted.table) if len(found) == 1 else wanted


def exists(cur: Any, where: VersionTable) -> bool:
    cur.execute("SELECT to_regclass(%s)", (where.qualified(cur),))
    return cur.fetchone()[0] is not None


def read_current(cur: Any, where: VersionTable) -> tuple[str, ...]:
    """The revisions recorded in the version table, sorted; none before the first."""
    if not exists(cur, where):
        return ()
    cur.execute(f"SELECT version_num FROM {where.qualified(cur)} ORDER BY 1")
    return tuple(str(row[0]) for row in cur.fetchall())
