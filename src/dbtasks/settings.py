"""Settings, loaded once per command.

Precedence, highest first: task flags > real environment > `.env` > `[tool.dbtasks]` in
pyproject.toml > defaults. A layer that sets any connection key beats every connection
key of the layers below it, so a `DATABASE_URL` in `.env` never outranks `DB_HOST` from
the environment. Every key is declared once in `KEYS`; `.env.example` and
docs/configuration.md document the same list (a unit test keeps them in step).
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtasks import passwords
from dbtasks.errors import ConfigError
from dbtasks.sources import (
    Layer,
    env_layer,
    find_project_root,
    pyproject_layer,
    read_dotenv,
)
from dbtasks.supabase import MANAGED_SCHEMAS, with_hosted_defaults
from dbtasks.target import Endpoint, from_parts, from_url, is_loopback

BACKENDS = ("native", "compose", "external")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Settings that name the connection target: one layer supplies them all (see above).
CONNECTION = ("host", "port", "name", "user", "password", "database_url")
# libpq reads these from the environment for any parameter a connection does not give,
# and no explicit host overrides them: they could move every connection out of sight.
LIBPQ_ROUTING_ENV = ("PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR")
# squawk rules that judge style, not safety: off unless a project asks for them.
LINT_IGNORED = (
    "prefer-robust-stmts,prefer-bigint-over-int,prefer-bigint-over-smallint,"
    "prefer-identity,prefer-text-field,prefer-timestamptz,require-timeout-settings,"
    "require-lock-timeout"
)
# What initdb accepts as the bootstrap superuser without quoting surprises.
_INITDB_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Key:
    """One setting: its field name (also its pyproject key), its variable and default."""

    field: str
    env: str
    default: Any
    parse: Callable[[str, Any], Any]


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, resolved and validated."""

    endpoint: Endpoint
    schema: str
    version_table: str
    version_schema: str | None  # None: DB_SCHEMA, or where an adopted database keeps it
    backend: str
    data_dir: Path
    health_timeout: float
    pg_bindir: Path | None
    native_user: str | None
    lock: bool
    lock_timeout: float
    slow_revision: float
    heads: int
    lint_ignore: tuple[str, ...]
    lint_from: str | None
    server_version: str | None
    extensions: tuple[str, ...]
    environment: str
    metadata: str | None
    seeds: tuple[str, ...]
    seed_callable: str | None
    compose_file: Path
    image: str
    log_file: Path | None
    log_level: str
    log_format: str
    project_root: Path
    # Which layer each setting came from, and what was noticed while loading.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def masked_url(self) -> str:
        return self.endpoint.masked()

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.endpoint.host)

    @property
    def is_production(self) -> bool:
        return self.environment.strip().lower() in ("production", "prod")


def _text(name: str, raw: Any) -> str:
    value = str(raw).strip()
    if not value:
        raise ConfigError(f"{name} is empty", "set it to a non-empty value")
    return value


def _secret(name: str, raw: Any) -> str:
    return str(raw)


def _identifier(name: str, raw: Any) -> str:
    value = _text(name, raw)
    if len(value.encode()) > 63:
        raise ConfigError(f"{name}={value!r} is longer than Postgres' 63-byte name limit")
    return value


def _port(name: str, raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={str(raw)!r} is not a port number (1-65535)") from None
    if not 0 < value < 65536:
        raise ConfigError(f"{name}={value} is out of range (1-65535)")
    return value


def _count(name: str, raw: Any) -> int:
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name}={str(raw)!r} is not a whole number of at least 1")
    return int(text)


def _names(name: str, raw: Any) -> tuple[str, ...]:
    """A comma-separated list (a TOML list in pyproject.toml)."""
    parts = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(p).strip() for p in parts if str(p).strip())


def _seconds(name: str, raw: Any) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={str(raw)!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={str(raw)!r} must be a number of seconds greater than 0")
    return value


def _flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigError(f"{name}={str(raw)!r} is not a boolean (use true or false)")


def _backend(name: str, raw: Any) -> str:
    value = str(raw).strip().lower()
    if value not in (*BACKENDS, "auto"):
        raise ConfigError(f"{name}={str(raw)!r} is not a backend (use {', '.join(BACKENDS)})")
    return value


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        value = str(raw).strip()
        for option in allowed:
            if value.lower() == option.lower():
                return option
        raise ConfigError(f"{name}={str(raw)!r} is not one of {', '.join(allowed)}")

    return parse


def _optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def wrapped(name: str, raw: Any) -> Any:
        return None if raw is None or str(raw).strip() == "" else parse(name, raw)

    return wrapped


KEYS = (
    Key("host", "DB_HOST", "127.0.0.1", _text),
    Key("port", "DB_PORT", 54322, _port),
    Key("name", "DB_NAME", "mindmirror", _identifier),
    Key("user", "DB_USER", "postgres", _identifier),
    Key("password", "DB_PASS", None, _secret),
    Key("schema", "DB_SCHEMA", "mindmirror", _identifier),
    Key("database_url", "DATABASE_URL", None, _optional(_text)),
    Key("version_table", "DB_VERSION_TABLE", "alembic_version", _identifier),
    Key("version_schema", "DB_VERSION_SCHEMA", None, _optional(_identifier)),
    Key("backend", "DB_BACKEND", "auto", _backend),
    Key("data_dir", "DB_DATA_DIR", ".dbtasks/pgdata", _text),
    Key("health_timeout", "DB_HEALTH_TIMEOUT", 30.0, _seconds),
    Key("pg_bindir", "DB_PG_BINDIR", None, _optional(_text)),
    Key("native_user", "DB_NATIVE_USER", None, _optional(_identifier)),
    Key("lock", "DB_LOCK", True, _flag),
    Key("lock_timeout", "DB_LOCK_TIMEOUT", 60.0, _seconds),
    Key("slow_revision", "DB_SLOW_REVISION", 10.0, _seconds),
    Key("heads", "DB_HEADS", 1, _count),
    Key("lint_ignore", "DB_LINT_IGNORE", LINT_IGNORED, _names),
    Key("lint_from", "DB_LINT_FROM", None, _optional(_text)),
    Key("server_version", "DB_SERVER_VERSION", None, _optional(_text)),
    Key("extensions", "DB_EXTENSIONS", "", _names),
    Key("environment", "DB_ENV", "development", _text),
    Key("metadata", "DB_METADATA", None, _optional(_text)),
    Key("seeds", "DB_SEEDS", "seeds/*.sql", _text),
    Key("seed_callable", "DB_SEED_CALLABLE", None, _optional(_text)),
    Key("compose_file", "DB_COMPOSE_FILE", "docker-compose.yml", _text),
    Key("image", "DB_IMAGE", "supabase/postgres:17.6.1.136", _text),
    Key("log_file", "DB_LOG_FILE", None, _optional(_text)),
    Key("log_level", "DB_LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Key("log_format", "DB_LOG_FORMAT", "text", _choice("text", "json")),
)
_BY_ENV = {k.env: k.field for k in KEYS}
_BY_FIELD = {k.field: k for k in KEYS}


def _layers(
    root: Path, environ: Mapping[str, str], flags: Mapping[str, Any], warnings: list[str]
) -> list[Layer]:
    """Every layer, lowest first."""
    return [
        Layer("default", {k.field: k.default for k in KEYS}),
        pyproject_layer(root, _BY_FIELD),
        env_layer(".env", read_dotenv(root / ".env"), _BY_ENV, warnings),
        env_layer("environment", environ, _BY_ENV, warnings),
        Layer("flag", {f: v for f, v in flags.items() if v is not None}),
    ]


def _choose(layers: list[Layer], warnings: list[str]) -> dict[str, tuple[str, Any]]:
    """For each field, the winning (layer name, raw value)."""
    chosen: dict[str, tuple[str, Any]] = {}
    for layer in layers:
        chosen.update({f: (layer.name, v) for f, v in layer.values.items()})
    top = next(
        (i for i in range(len(layers) - 1, 0, -1) if set(layers[i].values) & set(CONNECTION)),
        0,
    )
    url_layer = next(
        (i for i in range(len(layers) - 1, 0, -1) if layers[i].values.get("database_url")), 0
    )
    if url_layer and url_layer < top:
        beaten = sorted(set(layers[top].values) & set(CONNECTION))
        warnings.append(
            f"DATABASE_URL from {layers[url_layer].name} is ignored: "
            f"{_BY_FIELD[beaten[0]].env} from {layers[top].name} takes precedence"
        )
        chosen["database_url"] = ("default", None)
    return chosen


def _parse_all(chosen: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in KEYS:
        source, raw = chosen[key.field]
        try:
            values[key.field] = raw if raw is None else key.parse(key.env, raw)
        except ConfigError as exc:
            raise ConfigError(f"{exc.message} (from {source})", exc.hint) from None
    return values


def _native_user(configured: str | None) -> str | None:
    """Postgres refuses to run as root; pick an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return configured
    for candidate in (configured,) if configured else ("postgres", "nobody"):
        try:
            pwd.getpwnam(candidate)
        except KeyError:
            continue
        return candidate
    if configured:
        raise ConfigError(
            f"DB_NATIVE_USER={configured!r} names no user on this machine",
            "create that user or name an existing unprivileged one",
        )
    raise ConfigError(
        "running as root and no 'postgres' or 'nobody' user exists",
        "set DB_NATIVE_USER to an unprivileged user",
    )


def _relative(root: Path, raw: str | None) -> Path | None:
    if raw is None:
        return None
    path = Path(raw).expanduser()
    return path if path.is_absolute() else root / path


def _data_dir(root: Path, raw: str) -> Path:
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else root / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"DB_DATA_DIR={str(path)!r} is a file, not a directory")
    return path


def _isolate_libpq(environ: MutableMapping[str, str], warnings: list[str]) -> None:
    for name in LIBPQ_ROUTING_ENV:
        if environ.pop(name, None) is not None:
            warnings.append(
                f"ignoring {name} from the environment: dbtasks connects only to the "
                "target its own settings name"
            )


def _endpoint(
    v: Mapping[str, Any], url: Endpoint | None, backend: str, root: Path, data_dir: Path
) -> Endpoint:
    if url is not None:
        return with_hosted_defaults(url)
    password = v["password"]
    if password is None:
        password = passwords.local_password(root, data_dir) if backend != "external" else ""
    endpoint = from_parts(v["host"], v["port"], v["user"], password, v["name"])
    return with_hosted_defaults(endpoint)


def _backend_for(chosen: str, host: str) -> str:
    if chosen != "auto":
        return chosen
    return "native" if is_loopback(host) else "external"


def _check_schema(schema: str) -> None:
    if schema in MANAGED_SCHEMAS:
        raise ConfigError(
            f"DB_SCHEMA={schema!r} is a schema Supabase manages",
            "use a schema of your own, e.g. public or your app's name",
        )


def _check_native_user(user: str) -> None:
    if not _INITDB_USER.fullmatch(user) or user.lower().startswith("pg_"):
        raise ConfigError(
            f"DB_USER={user!r} cannot be the superuser of a native cluster",
            "use letters, digits and underscores, not starting with pg_",
        )


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> Settings:
    """Resolve every key through the precedence chain and validate the result."""
    root = root or find_project_root()
    warnings: list[str] = []
    if environ is None:
        _isolate_libpq(os.environ, warnings)
        environ = os.environ
    chosen = _choose(_layers(root, environ, flags or {}, warnings), warnings)
    v = _parse_all(chosen)
    url = from_url(v["database_url"]) if v["database_url"] else None
    backend = _backend_for(v["backend"], url.host if url else v["host"])
    data_dir = _data_dir(root, v["data_dir"])
    endpoint = _endpoint(v, url, backend, root, data_dir)
    _check_schema(v["schema"])
    if backend == "native":
        _check_native_user(endpoint.user)
        # The cluster dbtasks made only speaks SCRAM: never hand a password to anything
        # else that happens to listen on the port.
        endpoint = endpoint.with_options(require_auth="scram-sha-256")
    return Settings(
        endpoint=endpoint,
        schema=v["schema"],
        version_table=v["version_table"],
        version_schema=v["version_schema"],
        backend=backend,
        data_dir=data_dir,
        health_timeout=v["health_timeout"],
        pg_bindir=Path(v["pg_bindir"]) if v["pg_bindir"] else None,
        native_user=_native_user(v["native_user"]) if backend == "native" else None,
        lock=v["lock"],
        lock_timeout=v["lock_timeout"],
        slow_revision=v["slow_revision"],
        heads=v["heads"],
        lint_ignore=v["lint_ignore"],
        lint_from=v["lint_from"],
        server_version=v["server_version"],
        extensions=v["extensions"],
        environment=v["environment"],
        metadata=v["metadata"],
        seeds=tuple(p.strip() for p in v["seeds"].split(",") if p.strip()),
        seed_callable=v["seed_callable"],
        compose_file=root / v["compose_file"],
        image=v["image"],
        log_file=_relative(root, v["log_file"]),
        log_level=v["log_level"],
        log_format=v["log_format"],
        project_root=root,
        sources={f: source for f, (source, _) in chosen.items()},
        warnings=tuple(warnings),
    )
