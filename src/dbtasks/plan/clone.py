"""The scratch clone a plan traces on: the target's history up to its current revision.

Where the stack is ours (the native backend: `db.reset` clones snapshots there), the
clone comes from a template snapshot of the history at the target's revision, built once
per set of revision files and current revision and reused by every later plan; elsewhere
the applied revisions are replayed onto a new scratch database. Either is a write on its
server, granted by the guard's scratch space under the rules of a write; where those
rules refuse the target's server (a remote or production target), the clone is made on a
throwaway native cluster instead, so nothing is ever written where it may not be.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dbtasks import guard, log, pg, snapshot
from dbtasks.guard import Intent
from dbtasks.stack import ResetMode

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.grants import ScratchSpace
    from dbtasks.migrations.graph import Revision
    from dbtasks.settings import Settings
    from dbtasks.validate.scratch import Scratch
    from dbtasks.workflow import Work

ACTION = "build the scratch clone db.plan traces on"
logger = logging.getLogger("dbtasks.plan")


@dataclass
class Clone:
    """The clone's database, its grant, its connection, and how it was made; `at` is
    every revision applied on it, in order (the first `base` came with the template)."""

    scratch: Scratch
    connection: Connection
    how: str
    at: list[Revision]
    template: str | None = None
    base: int = 0
    copy: tuple[list[str], tuple[str, ...]] | None = None  # a loaded schema copy, and at what

    def applied(self, revision: Revision, upgrade: bool = True) -> None:
        if upgrade:
            self.at.append(revision)
        else:
            self.at = [r for r in self.at if r.id != revision.id]

    def rebuild(self, work: Work) -> None:
        """The clone afresh with `at` applied: after a downgrade check that could not be
        rolled back (part of it ran outside a transaction)."""
        ep = self.scratch.settings.endpoint
        self.connection.close()
        with pg.maintenance(ep) as cur:
            pg.drop_database(cur, ep.database, self.scratch.grant)
            pg.create_database(cur, ep.database, self.scratch.grant, template=self.template)
        if self.copy is not None:
            from dbtasks.plan.copy import load

            load(work, self.scratch, *self.copy)
        self.connection = pg.engine(ep).connect()
        replay(work, self.connection, self.at[self.base :], self.scratch)
        log.event(logger, "plan.rebuilt", "the clone was rebuilt", database=ep.database)


@contextmanager
def clone(
    work: Work,
    current: tuple[str, ...],
    applied: list[Revision],
    allow_remote: bool,
    copy_schema: bool = False,
) -> Iterator[Clone]:
    """A database at the target's revision, gone when the block ends: a clone of a
    template snapshot (our own stack), or a scratch database with the applied revisions
    replayed, or with `copy_schema` loaded with the target's own schema."""
    copied, failed = _dumped(work) if copy_schema else (None, "")
    with ExitStack() as stack:
        scratch, where = _place(work, stack, current, applied, (allow_remote, copy_schema))
        how = f"{where}, {len(applied)} revision(s) replayed"
        made = Clone(scratch, pg.engine(scratch.settings.endpoint).connect(), how, list(applied))
        stack.callback(lambda: made.connection.close())
        if not where:
            made.how = "a clone of a template snapshot of the history at the target's revision"
            made.template = template_name(work, current)
            made.base = len(applied)
        if copy_schema:
            made.how = _copied(work, made, (copied, current), where, failed)
        replay(work, made.connection, applied[made.base :], scratch)
        log.event(logger, "plan.clone", made.how, database=scratch.settings.endpoint.database)
        yield made


def _place(
    work: Work,
    stack: ExitStack,
    current: tuple[str, ...],
    applied: list[Revision],
    flags: tuple[bool, bool],
) -> tuple[Scratch, str]:
    """Where the clone goes, and its words for it ("": a template snapshot's clone)."""
    from dbtasks.validate.scratch import can_create_databases, own_cluster, scratch_database

    (allow_remote, copy_schema), settings = flags, work.settings
    refused = guard.refusal(settings, Intent.WRITE, ACTION, allow_remote)
    if refused is None and can_create_databases(settings):
        if work.stack.capabilities.reset is ResetMode.CLONE and not copy_schema:
            space = guard.scratch_space(settings, ACTION, allow_remote)
            return stack.enter_context(_from_template(work, current, applied, space)), ""
        made = stack.enter_context(scratch_database(settings, work.console, allow_remote))
        return made, "a scratch database on the target's server"
    why = f" (scratch databases on the target's server: {refused})" if refused else ""
    return stack.enter_context(
        own_cluster(settings, work.console)
    ), f"a throwaway native cluster{why}"


def _dumped(work: Work) -> tuple[list[str] | None, str]:
    """The target's schema, or why there is none (the plan then replays the history)."""
    from dbtasks.plan.copy import CopyFailed, dump

    try:
        return dump(work), ""
    except CopyFailed as exc:
        return None, str(exc)


def _copied(
    work: Work,
    made: Clone,
    dumped: tuple[list[str] | None, tuple[str, ...]],
    where: str,
    why: str,
) -> str:
    """Load the copy into the clone; how the clone was made, either way."""
    from dbtasks.plan.copy import CopyFailed, load

    copied, current = dumped
    if copied is not None:
        try:
            load(work, made.scratch, copied, current)
        except CopyFailed as exc:
            why = str(exc)
        else:
            made.copy, made.base = (copied, current), len(made.at)
            return f"{where}, a schema-only copy of the target (pg_dump)"
    return f"{made.how}: no schema copy ({why})"


def replay(work: Work, connection: Connection, applied: list[Revision], scratch: Scratch) -> None:
    """Bring the clone to the target's revision: the applied revisions, in one run."""
    from dbtasks.adapter.run import migrate
    from dbtasks.adapter.runtime import prepare_connection

    prepare_connection(connection, work.settings, scratch.grant)
    if applied:
        target = applied[-1].id
        migrate(work.ws, connection, target, applied, lambda step: None, scratch.grant)


def template_key(work: Work, current: tuple[str, ...]) -> str:
    """Every revision file and the revision the clone stands at."""
    files = snapshot.fingerprint(work.settings, False, work.locations)
    return hashlib.sha256(f"plan\0{files}\0{','.join(sorted(current))}".encode()).hexdigest()


def template_name(work: Work, current: tuple[str, ...]) -> str:
    key = template_key(work, current)[:16]
    return snapshot.derived_name(work.settings.endpoint.database, "plan", key)


@contextmanager
def _from_template(
    work: Work, current: tuple[str, ...], applied: list[Revision], space: ScratchSpace
) -> Iterator[Scratch]:
    from dbtasks.validate.scratch import Scratch

    settings = work.settings
    key = template_key(work, current)[:16]
    name = template_name(work, current)
    clone_name = snapshot.derived_name(settings.endpoint.database, "trace", uuid.uuid4().hex[:12])
    with pg.maintenance(settings.endpoint) as cur:
        with snapshot.build_lock(cur, name):
            if snapshot.find(cur, name) is None:
                build = snapshot.derived_name(settings.endpoint.database, "planbuild", key)
                _build_template(work, cur, (build, name), current, applied, space)
        pg.create_database(cur, clone_name, space.grant(clone_name), template=name)
    scratch = Scratch(_on(work, clone_name), space.grant(clone_name))
    try:
        yield scratch
    finally:
        with pg.maintenance(settings.endpoint) as cur:
            pg.drop_database(cur, clone_name, space.grant(clone_name))


def _build_template(
    work: Work,
    cur: Any,
    names: tuple[str, str],
    current: tuple[str, ...],
    applied: list[Revision],
    space: ScratchSpace,
) -> None:
    """Replay the applied revisions on database `build`, then freeze it as `name`."""
    from dbtasks.validate.scratch import Scratch

    build, name = names
    pg.drop_database(cur, build, space.grant(build))
    pg.create_database(cur, build, space.grant(build))
    try:
        with pg.engine(_on(work, build).endpoint).connect() as connection:
            replay(work, connection, applied, Scratch(_on(work, build), space.grant(build)))
        of = (f"{work.settings.endpoint.database} plan", False)
        snapshot.build(cur, build, name, of, current, space)
    finally:
        pg.drop_database(cur, build, space.grant(build))


def _on(work: Work, database: str) -> Settings:
    settings = work.settings
    return replace(settings, endpoint=replace(settings.endpoint, database=database))
