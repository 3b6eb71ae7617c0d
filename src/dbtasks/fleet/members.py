"""The databases a fleet command runs on: each target, or each member of a tenant set,
with the settings of one ordinary dbtasks command.

A member's settings are the project's with its own connection, `DB_SCHEMA` (a tenant
schema keeps its own version table and runs its revisions with that `search_path`),
`DB_ENV` from the target's role (so the guard's production rules apply to it), and the
external backend: a fleet command reaches databases that already run, it never starts
one. Connection strings come from the environment; no message ever quotes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError
from dbtasks.fleet.targets import Target, Tenancy

if TYPE_CHECKING:
    from dbtasks.settings import Settings
    from dbtasks.target import Endpoint

_HINT = "see docs/fleet.md"
MEMBERS_LIMIT = 100_000  # a members query that returns more is almost surely wrong


@dataclass(frozen=True)
class Member:
    """One database (and schema) a fleet command migrates: `name` is the target's, or
    `target/tenant` for a member of a tenant set."""

    name: str
    target: Target
    settings: Settings

    @property
    def server(self) -> tuple[str, int]:
        ep = self.settings.endpoint
        return ep.host, ep.port

    @property
    def database(self) -> tuple[str, int, str]:
        ep = self.settings.endpoint
        return ep.host, ep.port, ep.database


def expand(targets: Sequence[Target], base: Settings, environ: Mapping[str, str]) -> list[Member]:
    """Every member of `targets`, in order (a tenant set's in its members' order)."""
    members: list[Member] = []
    for target in targets:
        members += _members_of(target, base, environ)
    return members


def _members_of(target: Target, base: Settings, environ: Mapping[str, str]) -> list[Member]:
    if target.tenancy is Tenancy.NONE:
        endpoint = endpoint_of(target, environ)
        return [Member(target.name, target, member_settings(base, target, endpoint))]
    tenants = tenants_of(target, base.project_root, environ)
    if target.tenancy is Tenancy.SCHEMA:
        server = endpoint_of(target, environ)
        return [
            Member(f"{target.name}/{t}", target, member_settings(base, target, server, t))
            for t in tenants
        ]
    credentials = endpoint_of(target, environ) if target.url_env else None
    return [
        Member(
            f"{target.name}/{t}",
            target,
            member_settings(base, target, _tenant_endpoint(target, t, credentials)),
        )
        for t in tenants
    ]


def member_settings(
    base: Settings, target: Target, endpoint: Endpoint, tenant_schema: str | None = None
) -> Settings:
    """The project's settings, aimed at one member."""
    from dbtasks.settings import check_schema

    schema = tenant_schema or target.schema or base.schema
    check_schema(schema, f"the schema of target {target.name}")
    config = base.alembic_config
    if target.alembic_config:
        config = _own_history(base.project_root, target)
    return replace(
        base,
        endpoint=endpoint,
        alembic_config=config,
        schema=schema,
        # A tenant's history lives in its own schema, whatever DB_VERSION_SCHEMA says.
        version_schema=None if tenant_schema else base.version_schema,
        environment=target.role.value,
        backend="external",
    )


def _own_history(root: Path, target: Target) -> Path:
    """The target's ini file, which must exist and lie inside the project."""
    assert target.alembic_config is not None
    path = (root / target.alembic_config).resolve()
    if not path.is_file() or not path.is_relative_to(root.resolve()):
        raise ConfigError(
            f"target {target.name}: alembic_config {target.alembic_config} is not a file "
            "in the project",
            "give the path of its alembic.ini, relative to the project root",
        )
    return path


def endpoint_of(target: Target, environ: Mapping[str, str]) -> Endpoint:
    """The target's connection: the variable `url_env` names, or its password-free `url`."""
    if target.url_env:
        text = environ.get(target.url_env, "").strip()
        if not text:
            raise ConfigError(
                f"target {target.name}: {target.url_env} is not set",
                f"export {target.url_env}=postgresql://USER:PASSWORD@HOST:PORT/DB",
            )
        return parse_url(text, f"target {target.name}: {target.url_env}")
    assert target.url is not None  # parse_target requires one of the two
    return parse_url(target.url, f"target {target.name}: url")


def parse_url(text: str, where: str) -> Endpoint:
    """A connection string as an endpoint; an error names where it came from, never it."""
    from dbtasks.settings.parsing import secret
    from dbtasks.supabase import with_hosted_defaults
    from dbtasks.target import from_url

    try:
        endpoint = from_url(text)
    except ConfigError:
        # The parser's message may quote the string, password and all.
        raise ConfigError(f"{where} is not a valid connection URL", _HINT) from None
    secret(where, endpoint.password)  # one line, no NUL: what libpq is given is what was set
    return with_hosted_defaults(endpoint)


def _tenant_endpoint(target: Target, tenant: str, credentials: Endpoint | None) -> Endpoint:
    """A database tenant's connection: the template with the tenant's name, and the user
    and password of `url_env`'s URL where the template (committed) leaves them out."""
    from dbtasks.settings.parsing import database

    database(f"tenant {tenant!r} of target {target.name}", tenant)
    assert target.url_template is not None
    endpoint = parse_url(
        target.url_template.replace("{tenant}", tenant), f"target {target.name}: url_template"
    )
    if credentials is None:
        return endpoint
    return replace(endpoint, user=endpoint.user or credentials.user, password=credentials.password)


def tenants_of(target: Target, root: Path, environ: Mapping[str, str]) -> list[str]:
    """A tenant set's member names: from its file, or its query on the control database."""
    names = _from_file(target, root) if target.members_file else _from_query(target, environ)
    if len(names) > MEMBERS_LIMIT:
        raise ConfigError(f"target {target.name} lists {len(names)} members, over the limit")
    if target.tenancy is Tenancy.SCHEMA:
        from dbtasks.settings.parsing import identifier

        for name in names:
            identifier(f"tenant schema {name!r} of target {target.name}", name)
    return list(dict.fromkeys(names))


def _from_file(target: Target, root: Path) -> list[str]:
    """One name per line; blank lines and `#` comments skipped."""
    assert target.members_file is not None
    path = root / target.members_file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(
            f"target {target.name}: members_file {target.members_file} cannot be read: {why}",
            _HINT,
        ) from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _from_query(target: Target, environ: Mapping[str, str]) -> list[str]:
    """The first column of `members_query`, run read-only on the control database."""
    from dbtasks import pg

    assert target.control_url_env
    assert target.members_query
    control = replace(target, url_env=target.control_url_env, url=None)
    conn = pg.connect(endpoint_of(control, environ), application="dbtasks fleet")
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(target.members_query)
            return [str(row[0]) for row in cur.fetchall() if row and row[0] is not None]
    finally:
        conn.close()
