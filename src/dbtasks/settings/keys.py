"""Every setting, declared once: its field, its variable, its default and its parser.

`.env.example` and docs/configuration.md document the same list (a unit test keeps them
in step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbtasks.errors import ConfigError
from dbtasks.settings import parsing as parse

# Settings that name the connection target: one layer supplies them all (a layer that
# sets any of them beats every one of them below it).
CONNECTION = ("host", "port", "name", "user", "password", "database_url")
# squawk rules that judge style, not safety: off unless a project asks for them.
LINT_IGNORED = (
    "prefer-robust-stmts,prefer-bigint-over-int,prefer-bigint-over-smallint,"
    "prefer-identity,prefer-text-field,prefer-timestamptz,require-timeout-settings,"
    "require-lock-timeout"
)


@dataclass(frozen=True)
class Key:
    """One setting: its field name (also its pyproject key), its variable and default."""

    field: str
    env: str
    default: Any
    parse: Callable[[str, Any], Any]


KEYS = (
    Key("host", "DB_HOST", "127.0.0.1", parse.text),
    Key("port", "DB_PORT", 54322, parse.port),
    Key("name", "DB_NAME", "app", parse.database),
    Key("user", "DB_USER", "postgres", parse.identifier),
    # Empty is unset: the local cluster then gets a generated password.
    Key("password", "DB_PASS", None, parse.secret),
    Key("schema", "DB_SCHEMA", "public", parse.identifier),
    Key("database_url", "DATABASE_URL", None, parse.optional(parse.text)),
    Key("alembic_config", "DB_ALEMBIC_CONFIG", None, parse.optional(parse.text)),
    Key("version_table", "DB_VERSION_TABLE", "alembic_version", parse.identifier),
    Key("version_schema", "DB_VERSION_SCHEMA", None, parse.optional(parse.identifier)),
    Key("backend", "DB_BACKEND", "auto", parse.backend),
    Key("baseline", "DB_BASELINE", "none", parse.choice("none", "supabase")),
    Key("data_dir", "DB_DATA_DIR", ".dbtasks/pgdata", parse.text),
    Key("health_timeout", "DB_HEALTH_TIMEOUT", 30.0, parse.seconds),
    Key("pg_bindir", "DB_PG_BINDIR", None, parse.optional(parse.text)),
    Key("native_user", "DB_NATIVE_USER", None, parse.optional(parse.identifier)),
    Key("lock", "DB_LOCK", True, parse.flag),
    Key("lock_timeout", "DB_LOCK_TIMEOUT", 60.0, parse.seconds),
    Key("slow_revision", "DB_SLOW_REVISION", 10.0, parse.seconds),
    Key("heads", "DB_HEADS", 1, parse.count),
    Key("lint_ignore", "DB_LINT_IGNORE", LINT_IGNORED, parse.names),
    Key("lint_from", "DB_LINT_FROM", None, parse.optional(parse.text)),
    Key("server_version", "DB_SERVER_VERSION", None, parse.optional(parse.text)),
    Key("extensions", "DB_EXTENSIONS", "", parse.names),
    Key("environment", "DB_ENV", "development", parse.text),
    Key("metadata", "DB_METADATA", None, parse.optional(parse.text)),
    Key("seeds", "DB_SEEDS", "seeds/*.sql", parse.text),
    Key("seed_callable", "DB_SEED_CALLABLE", None, parse.optional(parse.text)),
    Key("compose_file", "DB_COMPOSE_FILE", "docker-compose.yml", parse.text),
    Key("image", "DB_IMAGE", "supabase/postgres:17.6.1.136", parse.text),
    Key("log_file", "DB_LOG_FILE", None, parse.optional(parse.text)),
    Key("log_level", "DB_LOG_LEVEL", "INFO", parse.choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Key("log_format", "DB_LOG_FORMAT", "text", parse.choice("text", "json")),
)
BY_ENV = {k.env: k.field for k in KEYS}
BY_FIELD = {k.field: k for k in KEYS}


def _check_encodable(name: str, raw: Any) -> None:
    """An environment variable with bytes that are not UTF-8 cannot reach libpq or a file
    name intact: bad input, named without its value."""
    if isinstance(raw, str):
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"{name} is not valid UTF-8 text", "set it again") from None


def parse_all(chosen: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """Each field's winning raw value, parsed; an error names the layer it came from."""
    values: dict[str, Any] = {}
    for key in KEYS:
        source, raw = chosen[key.field]
        try:
            _check_encodable(key.env, raw)
            values[key.field] = raw if raw is None else key.parse(key.env, raw)
        except ConfigError as exc:
            raise ConfigError(f"{exc.message} (from {source})", exc.hint) from None
    return values
