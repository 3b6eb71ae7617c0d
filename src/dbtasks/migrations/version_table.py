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
    """Where this database keeps this project's history: the configured place or, when
    DB_VERSION_SCHEMA is not set and nothing is there, the one table in DB_SCHEMA shaped
    like Alembic's version table (an env.py's own version_table=). A version table in any
    other schema belongs to someone else unless DB_VERSION_SCHEMA names it: a second
    project in the same database is never read, adopted or dropped."""
    wanted = configured(settings)
    if settings.version_schema or exists(cur, wanted):
        return wanted
    return _by_shape(cur, wanted.table, wanted.schema) or wanted


def elsewhere(cur: Any, settings: Settings) -> list[VersionTable]:
    """Version tables outside the configured place: another project's, or this one's
    from before it set DB_VERSION_SCHEMA (`db.adopt` names them)."""
    mine = locate(cur, settings)
    return [VersionTable(s, t) for s, t in _shaped(cur) if (s, t) != (mine.schema, mine.table)]


def _by_shape(cur: Any, name: str, schema: str) -> VersionTable | None:
    """The one version table of `schema` named `name`, else its one version table of any
    name: never a guess between several."""
    shaped = [VersionTable(s, table) for s, table in _shaped(cur) if s == schema]
    named = [found for found in shaped if found.table == name]
    if len(named) == 1:
        return named[0]
    if len(shaped) == 1 and not named:
        return shaped[0]
    return None


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


def is_shaped(cur: Any, where: VersionTable) -> bool:
    """Whether `where` is a table shaped like Alembic's version table (not some table a
    setting happens to name)."""
    return (where.schema, where.table) in _shaped(cur)


def exists(cur: Any, where: VersionTable) -> bool:
    cur.execute("SELECT to_regclass(%s)", (where.qualified(cur),))
    return cur.fetchone()[0] is not None


def read_current(cur: Any, where: VersionTable) -> tuple[str, ...]:
    """The revisions recorded in the version table, sorted; none before the first."""
    if not exists(cur, where):
        return ()
    cur.execute(f"SELECT version_num FROM {where.qualified(cur)} ORDER BY 1")
    return tuple(str(row[0]) for row in cur.fetchall())


def check_unversioned(cur: Any, settings: Settings, where: VersionTable) -> None:
    """Before building from nothing: DB_SCHEMA must not already hold tables that a history
    kept elsewhere made. That history is never adopted silently (it may be another
    project's); the message says how to claim it."""
    others = elsewhere(cur, settings)
    if not others:
        return
    cur.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename <> %s",
        (settings.schema, where.table),
    )
    tables = int(cur.fetchone()[0])
    if not tables:
        return
    found = others[0]
    raise ConfigError(
        f"schema {settings.schema!r} holds {tables} table(s) but no version table, and "
        f"{found.schema}.{found.table} records a history outside DB_SCHEMA",
        f"if that history is this project's, set DB_VERSION_SCHEMA={found.schema} "
        "(`inv db.adopt` checks); otherwise use a DB_SCHEMA of this project's own",
    )


def stranger_note(cur: Any, settings: Settings) -> str | None:
    """A word when DB_SCHEMA does not exist yet but this database records a history
    elsewhere: a second project here, or a misspelt DB_SCHEMA. Neither is read."""
    cur.execute("SELECT to_regnamespace(%s) IS NULL", (_quoted(cur, settings.schema),))
    if not cur.fetchone()[0]:
        return None
    others = elsewhere(cur, settings)
    if not others:
        return None
    named = ", ".join(f"{v.schema}.{v.table}" for v in others)
    return (
        f"DB_SCHEMA {settings.schema!r} does not exist yet in this database, which records "
        f"another history in {named}: if that is this project's, DB_SCHEMA is misspelt"
    )


def _quoted(cur: Any, name: str) -> str:
    from psycopg2.extensions import quote_ident

    return str(quote_ident(name, cur))
