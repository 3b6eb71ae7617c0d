"""The Supabase baseline: what a Supabase database has before any migration of the project.

A project says whether it is a Supabase project (`DB_BASELINE=supabase`) or plain
Postgres (`DB_BASELINE=none`, the default). For a Supabase project, every database
dbtasks creates (the native cluster's database, snapshot builds, scratch databases) gets
the roles `anon`, `authenticated` and `service_role`, the schema `auth` with `auth.uid()`,
`auth.role()`, `auth.jwt()` and a minimal `auth.users`, and `pgcrypto` and `uuid-ossp` in
schema `extensions`; and revisions and seeds run with `extensions` on the search_path, as
on Supabase itself. A plain project gets plain Postgres: a history that creates its own
extensions or roles finds none of them there already.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.grants import Grant
    from dbtasks.settings import Settings

SUPABASE = "supabase"
NONE = "none"
CHOICES = (NONE, SUPABASE)
SQL = Path(__file__).with_name("supabase_baseline.sql")
EXTENSIONS_SCHEMA = "extensions"
# What the baseline makes, so that an error about one of them can be blamed on it.
MADE = ("pgcrypto", "uuid-ossp", "anon", "authenticated", "service_role", "authenticator")
MADE_SCHEMAS = ("auth", EXTENSIONS_SCHEMA)
_SERVER_STATE = {
    "42710": "it already exists",  # duplicate_object: an extension, a role
    "42P06": "it already exists",  # duplicate_schema
    "42P07": "it already exists",  # duplicate_table (auth.users)
    "42723": "it already exists",  # duplicate_function
}


def wanted(settings: Settings) -> bool:
    return settings.baseline == SUPABASE


def search_path(settings: Settings) -> tuple[str, ...]:
    """Where revisions and seeds look for names: DB_SCHEMA, and on a Supabase project the
    `extensions` schema too (Supabase's own default search_path includes it)."""
    if wanted(settings) and settings.schema != EXTENSIONS_SCHEMA:
        return (settings.schema, EXTENSIONS_SCHEMA)
    return (settings.schema,)


def installed(cur: Any) -> bool:
    cur.execute("SELECT to_regprocedure('auth.jwt()') IS NOT NULL")
    row = cur.fetchone()
    return bool(row and row[0])


def install(cur: Any, grant: Grant) -> bool:
    """The baseline in the cursor's database, unless it is there; True if installed now.
    DDL in that database (and roles on its server): MIGRATE on it."""
    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, cur)
    if installed(cur):
        return False
    cur.execute(SQL.read_text(encoding="utf-8"))
    return True


def ensure_in(settings: Settings, database: str, grant: Grant) -> bool:
    """Install the baseline into `database` when the project is a Supabase project."""
    from dbtasks import pg

    if not wanted(settings):
        return False
    with pg.session(settings.endpoint, database) as cur:
        return install(cur, grant)


def blame(settings: Settings, exc: BaseException) -> str | None:
    """When a revision's failure comes from what the baseline made (an extension, a role or
    a schema that "already exists"), the sentence that says so and names the setting."""
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "pgcode", None)
    if not wanted(settings) or code not in _SERVER_STATE:
        return None
    text = str(original).lower()
    named = [m for m in (*MADE, *MADE_SCHEMAS) if f'"{m}"' in text or f" {m} " in text]
    if not named:
        return None
    return (
        f"{named[0]} comes from the Supabase baseline (DB_BASELINE=supabase), and "
        f"{_SERVER_STATE[code]}: if this is not a Supabase project, set DB_BASELINE=none"
    )
