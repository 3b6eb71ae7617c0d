"""What dbtasks knows about hosted Supabase: its hosts, its pooler, its schemas."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from dbtasks.errors import Refused

if TYPE_CHECKING:
    from dbtasks.settings import Settings
    from dbtasks.urls import Endpoint

HOSTED_SUFFIXES = ("supabase.co", "supabase.com")
TRANSACTION_POOLER_PORT = 6543

# Schemas Supabase creates and manages: never DB_SCHEMA, never compared by autogenerate.
MANAGED_SCHEMAS = frozenset(
    {
        "auth",
        "storage",
        "realtime",
        "vault",
        "extensions",
        "graphql",
        "graphql_public",
        "pgbouncer",
        "supabase_functions",
        "supabase_migrations",
        "net",
        "cron",
        "pgsodium",
        "pgsodium_masks",
        "_realtime",
        "_analytics",
        "supabase_admin",
    }
)


def is_hosted(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in HOSTED_SUFFIXES)


def is_pooler(host: str, port: int) -> bool:
    return "pooler" in host.lower() or port == TRANSACTION_POOLER_PORT


def with_hosted_defaults(endpoint: Endpoint) -> Endpoint:
    """Hosted Supabase only accepts TLS: ask for it unless sslmode was set explicitly."""
    if not is_hosted(endpoint.host) or "sslmode" in endpoint.query:
        return endpoint
    return replace(endpoint, query={**endpoint.query, "sslmode": "require"})


def check_migratable(settings: Settings) -> None:
    """Refuse (exit 4) to change the schema through Supabase's transaction pooler."""
    ep = settings.endpoint
    if ep.port == TRANSACTION_POOLER_PORT and (is_hosted(ep.host) or "pooler" in ep.host):
        raise Refused(
            f"refusing to migrate through the transaction pooler ({settings.masked_url}): it "
            "shares sessions between clients, so locks and multi-statement DDL are unsafe",
            "use the direct connection (db.<project-ref>.supabase.co:5432) or the session "
            "pooler (the same pooler host on port 5432); see docs/supabase.md",
        )
