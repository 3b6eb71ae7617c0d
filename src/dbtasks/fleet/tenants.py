"""New tenant databases, created at head as clones of a template instead of replaying
the history (`db.upgrade --create-missing`); new tenant schemas are in `tenant_schemas`.

The template is the reset's snapshot machinery aimed at a tenant set: migrated once in a
scratch database of the tenants' server, frozen as a template keyed by every revision
file, and reused until a file changes. A clone costs one `CREATE DATABASE … TEMPLATE`.
Where the guard refuses scratch databases (a production server), a new tenant database
is created empty and migrated like any other member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dbtasks.fleet.targets import Role, Tenancy

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.fleet.members import Member

ACTION = "create a tenant database"


def create_missing(found: Sequence[Member], console: Console) -> list[str]:
    """Create every tenant (database or schema) of the selection that does not exist yet,
    at head; their names."""
    from dbtasks.fleet import tenant_schemas

    by_target: dict[str, list[Member]] = defaultdict(list)
    for member in found:
        if member.target.tenancy is not Tenancy.NONE:
            by_target[member.target.name].append(member)
    made: list[str] = []
    for name, members in by_target.items():
        if members[0].target.tenancy is Tenancy.DATABASE:
            made += _databases(members, console)
        else:
            made += tenant_schemas.create_missing(members, _template_db(name), console)
    return made


def _databases(members: Sequence[Member], console: Console) -> list[str]:
    from dbtasks import pg
    from dbtasks.guard import Intent, refusal

    first = members[0].settings
    with pg.session(first.endpoint, pg.MAINTENANCE_DB, "dbtasks fleet") as cur:
        missing = [m for m in members if not pg.database_exists(cur, _name(m))]
        if not missing:
            return []
        # A team's own staging server may hold the template; production never does.
        remote_ok = members[0].target.role is not Role.PRODUCTION
        refused = refusal(first, Intent.WRITE, "build the tenant template", remote_ok)
        template = None if refused else _template(missing[0], cur, remote_ok)
        for member in missing:
            _create(cur, member, template)
    how = f"cloned from {template}" if template else f"empty ({refused}): migrating"
    console.line(f"created {len(missing)} tenant database(s), {how}")
    return [m.name for m in missing]


def _template_db(target: str) -> str:
    """Named after the tenant set, not a tenant: every tenant of the set shares it."""
    return f"{target}_tenant"


def _name(member: Member) -> str:
    return member.settings.endpoint.database


def _create(cur: Any, member: Member, template: str | None) -> None:
    """MIGRATE on the new database only: the grant names it."""
    from dbtasks import guard, pg
    from dbtasks.guard import Intent

    grant = guard.grant(member.settings, Intent.MIGRATE, ACTION)
    pg.create_database(cur, member.settings.endpoint.database, grant, template=template)


def _template(member: Member, cur: Any, remote_ok: bool) -> str:
    """The tenant set's template at head, built on first use (and after any file changes)."""
    from dbtasks import guard
    from dbtasks.flows.reset import ensure_snapshot
    from dbtasks.guard import Intent
    from dbtasks.stack import get_stack
    from dbtasks.workflow import Work

    ep = member.settings.endpoint
    settings = replace(
        member.settings, endpoint=replace(ep, database=_template_db(member.target.name))
    )
    space = guard.scratch_space(settings, "build the tenant template", remote_ok)
    reading = guard.grant(settings, Intent.READ, "read")  # its effects ask the space
    work = Work(settings, quiet(), get_stack(settings), reading)
    with work.resources:
        found, _ = ensure_snapshot(work, cur, space, seed=False)
    return found.name


def quiet() -> Console:
    import io

    from dbtasks.console import Console

    return Console(out=io.StringIO(), err=io.StringIO())
