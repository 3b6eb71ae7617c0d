"""Settings, loaded once per command.

Precedence, highest first: task flags > real environment > `.env` > `[tool.dbtasks]` in
pyproject.toml > defaults. Every key is declared once in `KEYS`; `.env.example` and
docs/configuration.md document the same list (a unit test keeps them in step).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbtasks.errors import ConfigError
from dbtasks.supabase import MANAGED_SCHEMAS, with_hosted_defaults
from dbtasks.urls import Endpoint, is_loopback, parse_database_url

BACKENDS = ("native", "compose", "external")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


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
    backend: str
    data_dir: Path
    health_timeout: float
    pg_bindir: Path | None
    native_user: str | None
    lock: bool
    lock_timeout: float
    environment: str
    metadata: str | None
    seeds: tuple[str, ...]
    seed_callable: str | None
    compose_file: Path
    image: str
    project_root: Path

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


def _seconds(name: str, raw: Any) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={str(raw)!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name}={value} must be greater than 0 seconds")
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


def _optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def wrapped(name: str, raw: Any) -> Any:
        return None if raw is None or str(raw).strip() == "" else parse(name, raw)

    return wrapped


KEYS = (
    Key("host", "DB_HOST", "127.0.0.1", _text),
    Key("port", "DB_PORT", 54322, _port),
    Key("name", "DB_NAME", "mindmirror", _identifier),
    Key("user", "DB_USER", "postgres", _identifier),
    Key("password", "DB_PASS", "postgres", _secret),
    Key("schema", "DB_SCHEMA", "mindmirror", _identifier),
    Key("database_url", "DATABASE_URL", None, _optional(_text)),
    Key("backend", "DB_BACKEND", "auto", _backend),
    Key("data_dir", "DB_DATA_DIR", ".dbtasks/pgdata", _text),
    Key("health_timeout", "DB_HEALTH_TIMEOUT", 30.0, _seconds),
    Key("pg_bindir", "DB_PG_BINDIR", None, _optional(_text)),
    Key("native_user", "DB_NATIVE_USER", None, _optional(_identifier)),
    Key("lock", "DB_LOCK", True, _flag),
    Key("lock_timeout", "DB_LOCK_TIMEOUT", 60.0, _seconds),
    Key("environment", "DB_ENV", "development", _text),
    Key("metadata", "DB_METADATA", None, _optional(_text)),
    Key("seeds", "DB_SEEDS", "seeds/*.sql", _text),
    Key("seed_callable", "DB_SEED_CALLABLE", None, _optional(_text)),
    Key("compose_file", "DB_COMPOSE_FILE", "docker-compose.yml", _text),
    Key("image", "DB_IMAGE", "supabase/postgres:17.6.1.136", _text),
)


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory upwards holding a pyproject.toml; the start directory otherwise."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return here


def read_pyproject(root: Path) -> dict[str, Any]:
    """The `[tool.dbtasks]` table, or nothing."""
    import tomllib

    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} cannot be parsed: {exc}") from None
    table = data.get("tool", {}).get("dbtasks", {})
    unknown = sorted(set(table) - {k.field for k in KEYS})
    if unknown:
        raise ConfigError(f"[tool.dbtasks] has unknown key {unknown[0]!r}", "see .env.example")
    return dict(table)


def read_dotenv(path: Path) -> dict[str, str]:
    """Values of a `.env` file taken literally; a missing file is fine, a bad line is not."""
    if not path.is_file():
        return {}
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                # The line itself may hold a secret: name its number only.
                line = binding.original.line
                raise ConfigError(f"{path.name} line {line} cannot be parsed (expected KEY=VALUE)")
            if binding.key is not None and binding.value is not None:
                values[binding.key] = binding.value
    return values


def _layers(
    root: Path, environ: Mapping[str, str], flags: Mapping[str, Any]
) -> dict[str, tuple[str, Any]]:
    """For each field, the winning (source name, raw value)."""
    dotenv = read_dotenv(root / ".env")
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("pyproject.toml", read_pyproject(root)),
        (".env", {k.field: dotenv[k.env] for k in KEYS if k.env in dotenv}),
        ("environment", {k.field: environ[k.env] for k in KEYS if k.env in environ}),
        ("flag", {f: v for f, v in flags.items() if v is not None}),
    ]
    chosen: dict[str, tuple[str, Any]] = {k.field: ("default", k.default) for k in KEYS}
    for source, values in layers:
        chosen.update({f: (source, v) for f, v in values.items()})
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
    if configured or os.geteuid() != 0:
        return configured
    for candidate in ("postgres", "nobody"):
        try:
            pwd.getpwnam(candidate)
        except KeyError:
            continue
        return candidate
    raise ConfigError(
        "running as root and no 'postgres' or 'nobody' user exists",
        "set DB_NATIVE_USER to an unprivileged user",
    )


def _data_dir(root: Path, raw: str) -> Path:
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else root / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"DB_DATA_DIR={str(path)!r} is a file, not a directory")
    return path


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> Settings:
    """Resolve every key through the precedence chain and validate the result."""
    root = root or find_project_root()
    v = _parse_all(_layers(root, os.environ if environ is None else environ, flags or {}))
    if v["database_url"]:
        endpoint = parse_database_url(v["database_url"])
    else:
        endpoint = Endpoint(v["host"], v["port"], v["user"], v["password"], v["name"])
    endpoint = with_hosted_defaults(endpoint)
    if v["schema"] in MANAGED_SCHEMAS:
        raise ConfigError(
            f"DB_SCHEMA={v['schema']!r} is a schema Supabase manages",
            "use a schema of your own, e.g. public or your app's name",
        )
    backend = v["backend"]
    if backend == "auto":
        backend = "native" if is_loopback(endpoint.host) else "external"
    return Settings(
        endpoint=endpoint,
        schema=v["schema"],
        backend=backend,
        data_dir=_data_dir(root, v["data_dir"]),
        health_timeout=v["health_timeout"],
        pg_bindir=Path(v["pg_bindir"]) if v["pg_bindir"] else None,
        native_user=_native_user(v["native_user"]) if backend == "native" else None,
        lock=v["lock"],
        lock_timeout=v["lock_timeout"],
        environment=v["environment"],
        metadata=v["metadata"],
        seeds=tuple(p.strip() for p in v["seeds"].split(",") if p.strip()),
        seed_callable=v["seed_callable"],
        compose_file=root / v["compose_file"],
        image=v["image"],
        project_root=root,
    )
