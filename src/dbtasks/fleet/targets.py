"""`[tool.dbtasks.targets.NAME]`: the databases a fleet command may reach.

A target names the environment variable that holds its URL, never the URL's password:
the file is committed, the variable is not. Unknown keys are errors, as in the rest of
`[tool.dbtasks]`, because a misspelt `role` would otherwise drop the production guard.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from dbtasks.errors import ConfigError
from dbtasks.settings.sources import nearest


class Role(StrEnum):
    """What the guard treats the target as (its DB_ENV)."""

    LOCAL = "local"
    STAGING = "staging"
    PRODUCTION = "production"


class Tenancy(StrEnum):
    """How a tenant set splits: none, a schema per tenant, or a database per tenant."""

    NONE = "none"
    SCHEMA = "schema"
    DATABASE = "database"


KEYS = (
    "url_env",
    "url",
    "role",
    "group",
    "schema",
    "include_in_all",
    "tenancy",
    "members_query",
    "control_url_env",
    "members_file",
    "url_template",
    "alembic_config",
)
E = TypeVar("E", bound=StrEnum)
_HINT = "see docs/fleet.md for the target keys"


@dataclass(frozen=True)
class Target:
    """One configured target (a tenant set is one target with members)."""

    name: str
    role: Role
    group: str | None = None
    url_env: str | None = None
    url: str | None = None
    schema: str | None = None
    include_in_all: bool = False
    tenancy: Tenancy = Tenancy.NONE
    members_query: str | None = None
    control_url_env: str | None = None
    members_file: str | None = None
    url_template: str | None = None
    alembic_config: str | None = None  # its own history: an ini file, from the project root

    @property
    def explicit_only(self) -> bool:
        """Production runs only when named, unless the project opts it into `--all`."""
        return self.role is Role.PRODUCTION and not self.include_in_all


def load_targets(root: Path) -> dict[str, Target]:
    """The targets of the project at `root`, by name (none when the table is absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} cannot be parsed: {exc}") from None
    table = data.get("tool", {}).get("dbtasks", {}).get("targets", {})
    return parse_targets(table)


def parse_targets(table: Mapping[str, Any]) -> dict[str, Target]:
    """Each `[tool.dbtasks.targets.NAME]` table as a validated `Target`."""
    if not isinstance(table, Mapping):
        raise ConfigError("[tool.dbtasks.targets] must be a table of tables", _HINT)
    return {name: parse_target(name, raw) for name, raw in table.items()}


def parse_target(name: str, raw: Any) -> Target:
    """One target's table; every mistake is one line naming the target and the key."""
    where = f"[tool.dbtasks.targets.{name}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table", _HINT)
    for key in sorted(raw):
        if key not in KEYS:
            guess = nearest(key, KEYS)
            hint = f" (did you mean {guess}?)" if guess else ""
            raise ConfigError(f"{where} has unknown key {key!r}{hint}", _HINT)
    values = {key: _text(where, key, raw[key]) for key in KEYS if key in raw}
    _check_url(where, values.get("url"))
    target = Target(
        name=name,
        role=_enum(Role, where, "role", values.pop("role", "local")),
        tenancy=_enum(Tenancy, where, "tenancy", values.pop("tenancy", "none")),
        include_in_all=bool(values.pop("include_in_all", False)),
        **values,
    )
    _check_shape(where, target)
    return target


def _text(where: str, key: str, value: Any) -> Any:
    wanted = bool if key == "include_in_all" else str
    if not isinstance(value, wanted):
        raise ConfigError(f"{where} {key} must be a {wanted.__name__}", _HINT)
    return value


def _enum(kind: type[E], where: str, key: str, value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = " | ".join(member.value for member in kind)
        raise ConfigError(f"{where} {key} must be one of {allowed}", _HINT) from None


def _check_url(where: str, url: str | None) -> None:
    """A `url` in the committed file may name a host, never a password."""
    if url is None:
        return
    from dbtasks.target import from_url

    try:
        endpoint = from_url(url)
    except ConfigError:
        # The parser's own message may quote the URL: say only that it is malformed.
        raise ConfigError(f"{where} url cannot be parsed", _HINT) from None
    if endpoint.password:
        raise ConfigError(
            f"{where} url holds a password",
            "move the URL to an environment variable and name it with url_env",
        )


def _check_shape(where: str, target: Target) -> None:
    """The keys a target's tenancy needs are there, and no others."""
    if target.tenancy is Tenancy.NONE:
        if not (target.url_env or target.url):
            raise ConfigError(f"{where} needs url_env (or a password-free url)", _HINT)
        return
    if not (target.members_file or (target.members_query and target.control_url_env)):
        raise ConfigError(
            f"{where} is a tenant set: give members_file, or members_query with control_url_env",
            _HINT,
        )
    if target.tenancy is Tenancy.DATABASE and "{tenant}" not in (target.url_template or ""):
        raise ConfigError(f"{where} tenancy = database needs a url_template with {{tenant}}")
    if target.tenancy is Tenancy.SCHEMA and not (target.url_env or target.url):
        raise ConfigError(f"{where} tenancy = schema needs url_env for its server", _HINT)
