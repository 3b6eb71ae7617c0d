"""How a setting's raw text becomes a value: one parser per kind, each a one-line
ConfigError naming the setting when the text will not do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbtasks.errors import ConfigError

BACKENDS = ("native", "compose", "external")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def text(name: str, raw: Any) -> str:
    value = str(raw).strip()
    if not value:
        raise ConfigError(f"{name} is empty", "set it to a non-empty value")
    if "\0" in value:
        raise ConfigError(f"{name} contains a NUL character", "remove it")
    return value


def secret(name: str, raw: Any) -> str | None:
    """Any characters, spaces included; only the empty string means "not set". A line
    break or NUL is refused: initdb keeps only a password file's first line, and libpq
    ends a string at NUL, so what would be set is not what was given."""
    value = str(raw)
    if any(ch in value for ch in "\n\r\0"):
        raise ConfigError(
            f"{name} contains a line break or NUL character", "use a password on one line"
        )
    return None if value == "" else value


def identifier(name: str, raw: Any) -> str:
    value = text(name, raw)
    if len(value.encode()) > 63:
        raise ConfigError(f"{name}={value!r} is longer than Postgres' 63-byte name limit")
    return value


def database(name: str, raw: Any) -> str:
    """A database name that no tool reads as a connection string: libpq takes a dbname
    holding "=" or starting with a URI scheme as one (psql, pg_dump and friends)."""
    value = identifier(name, raw)
    if "=" in value or value.lower().startswith(("postgresql:", "postgres:")):
        raise ConfigError(
            f"{name}={value!r} would be read as a connection string by libpq",
            "use a plain database name; put connection options in DATABASE_URL",
        )
    return value


def port(name: str, raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={str(raw)!r} is not a port number (1-65535)") from None
    if not 0 < value < 65536:
        raise ConfigError(f"{name}={value} is out of range (1-65535)")
    return value


def count(name: str, raw: Any) -> int:
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name}={str(raw)!r} is not a whole number of at least 1")
    return int(text)


def names(name: str, raw: Any) -> tuple[str, ...]:
    """A comma-separated list (a TOML list in pyproject.toml)."""
    parts = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(p).strip() for p in parts if str(p).strip())


def seconds(name: str, raw: Any) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name}={str(raw)!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name}={str(raw)!r} must be a number of seconds greater than 0")
    return value


def flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ConfigError(f"{name}={str(raw)!r} is not a boolean (use true or false)")


def backend(name: str, raw: Any) -> str:
    value = str(raw).strip().lower()
    if value not in (*BACKENDS, "auto"):
        raise ConfigError(f"{name}={str(raw)!r} is not a backend (use {', '.join(BACKENDS)})")
    return value


def choice(*allowed: str) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        value = str(raw).strip()
        for option in allowed:
            if value.lower() == option.lower():
                return option
        raise ConfigError(f"{name}={str(raw)!r} is not one of {', '.join(allowed)}")

    return parse


def optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def wrapped(name: str, raw: Any) -> Any:
        return None if raw is None or str(raw).strip() == "" else parse(name, raw)

    return wrapped
