"""The proof: replay the old chain to REV on one scratch database, load the baseline on
another, and compare their fingerprints.

Both scratch databases come from the scratch space the guard grants (`db.validate`'s
`scratch_database`): never the configured database. The replay runs the revisions exactly
as `db.upgrade` runs them; the load runs the baseline's SQL exactly as its revision does,
inside one transaction, after the runtime prepared the connection (the Supabase baseline,
DB_SCHEMA, the search_path).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from dbtasks import pg
from dbtasks.catalog import SKIPPED
from dbtasks.catalog.fingerprint import Fingerprint, fingerprint
from dbtasks.catalog.objects import droppable
from dbtasks.squash import carry
from dbtasks.squash.carry import Changes, Side, ident

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.console import Console
    from dbtasks.grants import Grant
    from dbtasks.settings import Settings
    from dbtasks.squash.cut import Cut
    from dbtasks.validate.scratch import Scratch


@dataclass
class Baseline:
    """What the baseline revision runs, and what the proof found."""

    upgrade: list[str]
    downgrade: list[str]
    replayed: Fingerprint
    carried: list[str] = field(default_factory=list)  # one line per carried kind
    notes: list[str] = field(default_factory=list)


@contextmanager
def scratch_pair(settings: Settings, console: Console, allow_remote: bool) -> Iterator[Any]:
    """Two new scratch databases, dropped when the block ends."""
    from dbtasks.validate.scratch import scratch_database

    with ExitStack() as stack:
        first = stack.enter_context(scratch_database(settings, console, allow_remote))
        second = stack.enter_context(scratch_database(settings, console, allow_remote))
        yield first, second


def replay(ws: Workspace, scratch: Scratch, target: str) -> None:
    """Upgrade the scratch database to `target` with `ws`'s revisions, as db.upgrade does."""
    from dbtasks.adapter.plan import upgrade_plan
    from dbtasks.adapter.run import migrate
    from dbtasks.adapter.runtime import prepare_connection

    plan = upgrade_plan(ws, (), target)
    with pg.engine(scratch.settings.endpoint).connect() as connection:
        prepare_connection(connection, scratch.settings, scratch.grant)
        migrate(ws, connection, target, plan, lambda step: None, scratch.grant)


def prepared(scratch: Scratch) -> Any:
    """A connection to the scratch database, prepared as the runtime prepares one."""
    from dbtasks.adapter.runtime import prepare_connection

    connection = pg.engine(scratch.settings.endpoint).connect()
    prepare_connection(connection, scratch.settings, scratch.grant)
    return connection


def load(connection: Any, sql: str, grant: Grant) -> None:
    """Run the baseline's SQL in one transaction, as its revision does: DDL, so MIGRATE on
    the connection's database."""
    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, connection)
    with pg.driver_cursor(connection) as cur:
        cur.execute(sql)
        cur.connection.commit()  # the driver's: SQLAlchemy began no transaction of its own


def read(scratch: Scratch) -> Fingerprint:
    with pg.session(scratch.settings.endpoint) as cur:
        return fingerprint(cur, skip=_skipped(scratch.settings))


def _skipped(settings: Settings) -> tuple[str, ...]:
    return (*SKIPPED, settings.version_table)


def provided(reference: Fingerprint, settings: Settings) -> tuple[str, ...]:
    """The schemas a fresh database already has, but DB_SCHEMA and public: the server's
    and the Supabase baseline's (auth, extensions, ...), which a squash does not dump."""
    return tuple(s for s in reference.user_schemas() if s not in (settings.schema, "public"))


def compose(
    ws: Workspace, cut: Cut, replayed: Scratch, fresh: Scratch, reference: Fingerprint
) -> Baseline:
    """The baseline's upgrade and downgrade, from the replayed database and a fresh one."""
    from dbtasks.squash.dump import pg_dump, revision_sql

    settings = ws.settings
    outside = provided(reference, settings)
    mine = read(replayed)
    dumped = [s for s in mine.user_schemas() if s not in outside]
    text = pg_dump(settings, replayed.settings.endpoint, dumped, _skipped(settings))
    with pg.session(replayed.settings.endpoint) as a, pg.session(fresh.settings.endpoint) as b:
        forward = carry.between(Side(a, mine), Side(b, reference), outside)
        backward = carry.between(Side(b, reference), Side(a, mine), outside)
        existing = [s for s in dumped if s in reference.user_schemas()]
        undo_grants = carry.grants(Side(b, reference), Side(a, mine), tuple(existing))
        drops = _drops(a, dumped, existing, _skipped(settings))
        forward.first[:0] = roles(a, cut)
    statements = revision_sql(text, ["public"])
    upgrade = [*forward.first, *forward.rows, *statements, *forward.last]
    downgrade = [*backward.last, *undo_grants, *drops, *backward.rows, *backward.first]
    baseline = Baseline(upgrade, downgrade, mine, notes=forward.notes)
    baseline.carried = summary(forward, statements, cut)
    baseline.notes += carry.unreachable(mine, reference, outside)
    return baseline


def _drops(cur: Any, dumped: list[str], existing: list[str], skip: tuple[str, ...]) -> list[str]:
    """What the downgrade drops: the schemas the history made, and in the ones that
    existed before it (DB_SCHEMA, public) each object it made there."""
    found = [
        f"DROP {kind} IF EXISTS {name} CASCADE" for kind, name in droppable(cur, existing, skip)
    ]
    return found + [
        f"DROP SCHEMA IF EXISTS {ident(s)} CASCADE" for s in dumped if s not in existing
    ]


def roles(cur: Any, cut: Cut) -> list[str]:
    """Roles the replaced revisions create (a server-wide object no dump of a database
    holds): created by the baseline when missing, with the same attributes; passwords are
    never carried."""
    from pathlib import Path

    from dbtasks.migrations import habits

    names = sorted(habits.read(Path(r.path) for r in cut.replaced).creates_roles)
    cur.execute(
        "SELECT rolname, rolcanlogin, rolinherit, rolcreatedb, rolcreaterole, rolbypassrls "
        "FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
        [names],
    )
    return [_role(*row) for row in cur.fetchall()]


def _role(name: str, login: bool, inherit: bool, db: bool, role: bool, bypass: bool) -> str:
    flags = " ".join(
        f"{'' if on else 'NO'}{word}"
        for on, word in (
            (login, "LOGIN"),
            (inherit, "INHERIT"),
            (db, "CREATEDB"),
            (role, "CREATEROLE"),
            (bypass, "BYPASSRLS"),
        )
    )
    quoted = ident(name).replace("'", "''")
    return (
        "DO $dbtasks$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = "
        f"'{name.replace(chr(39), chr(39) * 2)}') THEN EXECUTE 'CREATE ROLE {quoted} {flags}'; "
        "END IF; END $dbtasks$"
    )


def summary(forward: Changes, statements: list[str], cut: Cut) -> list[str]:
    found = [f"the schema and rows of {len(cut.replaced)} revisions ({len(statements)} statements)"]
    if forward.first:
        found.append(f"{len(forward.first)} statements for roles and extensions")
    if forward.rows:
        found.append(f"{len(forward.rows)} rows in tables the server provides")
    if forward.last:
        found.append(f"{len(forward.last)} functions, triggers, policies and grants there")
    return found


def counted(found: Fingerprint) -> Fingerprint:
    """The fingerprint with each table's rows counted, not hashed: for comparing two
    separate replays, which differ in what `now()` and random defaults wrote."""
    from dataclasses import replace

    return replace(found, rows={k: v.split(",")[0] for k, v in found.rows.items()})


def digest(found: Fingerprint) -> str:
    """A stable hash of a fingerprint, recorded in the baseline."""
    parts = []
    for each in fields(found):
        value = getattr(found, each.name)
        if each.name == "shape":
            value = [sorted(getattr(value, f.name).items()) for f in fields(value)[1:]]
        else:
            value = sorted(value.items())
        parts.append(f"{each.name}={value!r}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
