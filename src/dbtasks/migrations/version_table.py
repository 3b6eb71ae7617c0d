"""The database side of the history: where the version table is, and what it records.

Read with plain psycopg2, so that `db.status`, a no-op `db.upgrade` and the reset fast
path never import SQLAlchemy or Alembic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError

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
    DB_VERSION_SCHEMA is not set and nothing is there, the one table shaped like Alembic's
    version table (a database migrated before dbtasks): never a second version table."""
    wanted = configured(settings)
    if settings.version_schema or exists(cur, wanted):
        return wanted
    found = _by_shape(cur, wanted.table)
    if found is None:
        return wanted
    if not _schema_exists(cur, settings.schema):
        # A misspelt DB_SCHEMA, or a second project in this database: either way that
        # history is not this schema's, and migrating would build in an empty schema.
        raise ConfigError(
            f"DB_SCHEMA {settings.schema!r} does not exist in this database, but a history "
            f"is recorded in {found.schema}.{found.table}",
            f"check DB_SCHEMA; for a new schema of its own, set DB_VERSION_SCHEMA="
            f"{settings.schema}",
        )
    return found


def _by_shape(cur: Any, name: str) -> VersionTable | None:
    """The one version table named `name`, else the one version table of any name (an
    env.py's version_table=): never a guess between several."""
    shaped = [VersionTable(schema, table) for schema, table in _shaped(cur)]
    named = [found for found in shaped if found.table == name]
    if len(named) == 1:
        return named[0]
    if len(shaped) == 1 and not named:
        return shaped[0]
    return None


def _schema_exists(cur: Any, schema: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def _shaped(cur: Any) -> list[tuple[str, str]]:
    """Tables shaped like Alembic's version table: one `version_num` column and the
    primary key Alembic names `<table>_pkc`."""
    cur.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
             AND k.conname = c.relname || '_pkc'
        WHERE c.relkind = 'r' AND n.nspname <> ALL(%s)
          AND (SELECT array_agg(a.attname) FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
              = ARRAY['version_num']::name[]
        ORDER BY 1, 2
        """,
        (list(_SYSTEM_SCHEMAS),),
    )
    return [(str(row[0]), str(row[1])) for row in cur.fetchall()]


def exists(cur: Any, where: VersionTable) -> bool:
    cur.execute("SELECT to_regclass(%s)", (where.qualified(cur),))
    return cur.fetchone()[0] is not None


def read_current(cur: Any, where: VersionTable) -> tuple[str, ...]:
    """The revisions recorded in the version table, sorted; none before the first."""
    if not exists(cur, where):
        return ()
    cur.execute(f"SELECT version_num FROM {where.qualified(cur)} ORDER BY 1")
    return tuple(str(row[0]) for row in cur.fetchall())
