"""The two shapes of a command: a `Flow` for those that change a database, `read` for
those that only read.

    Flow: preflight (settings → guard → stack ready) → plan → show → consent
          → act under the lock → verify
    read: guard (READ) → probe → one function over the opened Work → its answer

A command is a `Flow`: it says what it intends (the guard's rules follow from that), how
to plan (pure, over the graph and the current revisions), what to show, what the user
consents to, and how to act. `execute` runs every flow the same way: the plan is made
again once the lock is held, so a run that waited acts on what is left, and a destructive
run acts on exactly what was confirmed, or on nothing.

The guard's grant for the flow's intent travels on its `Work`, and every effect asks it:
a flow that composes other flows' steps (prepare, reset) runs them on the same `Work`,
never through `execute` again, so it can do no more than it was granted.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from dbtasks import guard
from dbtasks.errors import DbTasksError
from dbtasks.guard import Intent

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.adapter.workspace import Workspace
    from dbtasks.console import Console
    from dbtasks.grants import Grant
    from dbtasks.migrations.graph import Graph
    from dbtasks.migrations.graph_cache import Locations
    from dbtasks.migrations.lock import Held
    from dbtasks.migrations.version_table import VersionTable
    from dbtasks.settings import Settings
    from dbtasks.stack import Stack

P = TypeVar("P")
R = TypeVar("R")


class Work:
    """What a flow works with. Each piece is opened once, on first use, and closed by
    `execute`; the graph comes from the cache when no revision file changed, so commands
    that find nothing to do never import Alembic."""

    def __init__(self, settings: Settings, console: Console, stack: Stack, grant: Grant) -> None:
        self.settings = settings
        self.console = console
        self.stack = stack
        self.grant = grant
        self.resources = ExitStack()

    def on_database(self, database: str, grant: Grant) -> Work:
        """The same command's work on another database of the server (a scratch build),
        with the grant for it; it shares the revisions already read and closes with this."""
        from dataclasses import replace

        endpoint = replace(self.settings.endpoint, database=database)
        other = Work(replace(self.settings, endpoint=endpoint), self.console, self.stack, grant)
        for shared in ("ws", "cached"):
            if shared in self.__dict__:
                other.__dict__[shared] = self.__dict__[shared]
        other.resources = self.resources.enter_context(ExitStack())
        return other

    @cached_property
    def cur(self) -> Any:
        """An autocommit psycopg2 cursor on the target: reads and the migration lock. Its
        connection is the command's probe too: a failure to connect is a HealthError."""
        from dbtasks.health import connect

        conn = connect(self.settings.endpoint)
        self.resources.callback(conn.close)
        conn.autocommit = True
        return self.resources.enter_context(conn.cursor())

    @cached_property
    def version(self) -> VersionTable:
        """Where the database keeps its history (found once per command)."""
        from dbtasks.migrations.version_table import locate

        found = locate(self.cur, self.settings)
        if "ws" in self.__dict__:  # revisions run with the table found, not the configured
            from dbtasks.adapter.workspace import VERSION_KEY  # Alembic: only once it is open

            self.ws.config.attributes[VERSION_KEY] = found
        return found

    @cached_property
    def ws(self) -> Workspace:
        """The revisions, read once; a database is not needed to read them."""
        from dbtasks.adapter.workspace import Workspace
        from dbtasks.migrations import graph_cache

        version = self.__dict__.get("version")
        ws = Workspace.open(
            self.settings, output=self.console.out, version=version, known=self.cached
        )
        if self.cached is None:  # a valid cache already says what was just read
            graph_cache.save(self.settings, ws.graph, ws.state)
        return ws

    @cached_property
    def cached(self) -> tuple[Graph, Locations] | None:
        from dbtasks.migrations import graph_cache

        return graph_cache.load(self.settings)

    @property
    def graph(self) -> Graph:
        return self.cached[0] if self.cached and "ws" not in self.__dict__ else self.ws.graph

    @property
    def locations(self) -> Locations:
        return self.cached[1] if self.cached and "ws" not in self.__dict__ else self.ws.state.where

    @cached_property
    def conn(self) -> Connection:
        """The SQLAlchemy connection revisions run on."""
        from dbtasks import pg

        return self.resources.enter_context(pg.engine(self.settings.endpoint).connect())

    def current(self, check: bool = True) -> tuple[str, ...]:
        """The current revisions, refusing (when `check`) to plan from one no revision file
        defines."""
        from dbtasks.migrations.version_table import read_current

        current = read_current(self.cur, self.version)
        unknown = self.graph.unknown(current) if check else []
        if unknown:
            raise self._unknown(tuple(unknown))
        return current

    def _unknown(self, unknown: tuple[str, ...]) -> DbTasksError:
        """A current revision no file defines: one a squashed baseline replaced says how to
        catch up; any other, where the file might be."""
        from dbtasks.squash.frozen import replacing

        squashed = replacing(self.ws, unknown)
        if squashed is not None:
            return DbTasksError(
                f"the database is at {', '.join(unknown)}, which the squashed baseline "
                f"{squashed.upto} replaced",
                f"run `inv db.squash --catch-up` to bring it to {squashed.upto}, then "
                "`inv db.upgrade`",
            )
        return DbTasksError(
            f"the database is at {', '.join(unknown)}, which no revision file defines",
            "check out the code that has it, or reset the database",
        )

    def current_if_answering(self, check: bool = False) -> tuple[str, ...] | None:
        """The current revisions, or None (and a warning) when the database does not answer:
        the history is the revision files', which need no database."""
        from dbtasks.errors import HealthError

        try:
            self.cur.execute("SELECT 1")
        except HealthError as exc:
            self.console.warn(f"{exc.message}: showing the revision files only")
            return None
        return self.current(check)

    def lock(self) -> Any:
        from dbtasks.migrations.lock import migration_lock

        return migration_lock(self.settings, self.console, self.cur)


class Flow(Generic[P, R]):
    """One command's steps. Subclasses set `intent` and `action` and fill in the steps."""

    intent: ClassVar[Intent]
    action: str = "change the database"  # what the guard's messages say is refused
    locks: ClassVar[bool] = True  # act under the migration lock
    ready: ClassVar[bool] = True  # preflight starts the stack (a reset may rebuild it first)

    def scope(self, settings: Settings, stack: Stack) -> dict[str, Any]:
        """What the grant covers beyond the configured database (`guard.grant`'s keywords)."""
        return {}

    def plan(self, work: Work) -> P:
        raise NotImplementedError

    def show(self, work: Work, plan: P) -> bool:
        """Print the plan; False when there is nothing to do."""
        raise NotImplementedError

    def consent(self, work: Work, plan: P) -> str:
        """What the user agrees to, for destructive intents ("undo 3 revisions on ...")."""
        return self.action

    def act(self, work: Work, plan: P, held: Held | None) -> R:
        raise NotImplementedError

    def idle(self, work: Work, plan: P) -> R:
        """The result when there is nothing to do; a flow whose `show` always says there
        is (init, reset) never gets here."""
        raise NotImplementedError


def ready(settings: Settings, console: Console, stack: Stack, intent: Intent) -> None:
    """A stack that answers: started (and the database created) for changes; only probed
    for reads, which never start or create anything."""
    from dbtasks.health import probe
    from dbtasks.stack import ensure_ready

    if intent.changes:
        ensure_ready(settings, console, stack)
    else:
        probe(settings.endpoint)


def execute(
    flow: Flow[P, R],
    settings: Settings,
    console: Console,
    *,
    yes: bool = False,
    allow_remote: bool = False,
    stack: Stack | None = None,
) -> R:
    """Run `flow` in the one shape, on `stack` (default: the one the settings name)."""
    from dbtasks.stack import get_stack

    stack = stack or get_stack(settings)
    granted = guard.grant(
        settings, flow.intent, flow.action, allow_remote, **flow.scope(settings, stack)
    )
    if flow.ready:
        ready(settings, console, stack, flow.intent)
    work = Work(settings, console, stack, granted)
    with work.resources:
        plan = flow.plan(work)
        if not flow.show(work, plan):
            return flow.idle(work, plan)
        if flow.intent is Intent.DESTROY:
            guard.confirm(console, flow.consent(work, plan), yes)
        if not flow.locks:
            return flow.act(work, plan, None)
        with work.lock() as held:
            return flow.act(work, _again(flow, work, plan), held)


def read(
    query: Callable[[Work], R],
    settings: Settings,
    console: Console,
    *,
    needs_database: bool = True,
    stack: Stack | None = None,
) -> R:
    """Run a command that only reads: `query` over a `Work` granted READ, which can change
    nothing. The database is probed first (never started or created) unless the query
    says it can answer without one, as a history can from its files."""
    from dbtasks.stack import get_stack

    granted = guard.grant(settings, Intent.READ, "read")
    work = Work(settings, console, stack or get_stack(settings), granted)
    with work.resources:
        if needs_database:
            work.cur.execute("SELECT 1")  # the probe: one connection, kept for the query
        return query(work)


def _again(flow: Flow[P, R], work: Work, plan: P) -> P:
    """The plan once the lock is held: a destructive flow acts on what was confirmed."""
    fresh = flow.plan(work)
    if flow.intent is Intent.DESTROY and fresh != plan:
        raise DbTasksError(
            "the database changed while waiting for confirmation",
            "run the command again to see the new plan",
        )
    return fresh
