"""What dbtasks knows about hosted Supabase: its hosts, its pooler, its schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbtasks.target import Endpoint

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


def is_transaction_pooler(host: str, port: int) -> bool:
    """Supabase's transaction pooler (Supavisor on 6543), or any host named as a pooler."""
    return port == TRANSACTION_POOLER_PORT and (is_hosted(host) or "pooler" in host.lower())


def with_hosted_defaults(endpoint: Endpoint) -> Endpoint:
    """Hosted Supabase only accepts TLS: ask for it unless sslmode was set explicitly."""
    if not is_hosted(endpoint.host) or "sslmode" in endpoint.query:
        return endpoint
    return endpoint.with_options(sslmode="require")
