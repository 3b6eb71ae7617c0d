"""Watch each statement a revision sends, from the migrating backend itself.

SQLAlchemy's `before_cursor_execute`/`after_cursor_execute` events on the clone's
connection frame every statement. Just before the revision's first statement the catalog
is read (what is older than the revision); after each statement it is read again on the
same backend, inside the same transaction (`observe`): the locks the transaction holds
now and did not hold before are the statement's, a new relfilenode is a rewrite, a new
constraint or index, a column made NOT NULL or retyped is a change to an old object.
Locks are held to the end of the revision's transaction, so they are exactly what the
target will hold while the rest of the revision runs. A statement that ran outside a
transaction (an `autocommit_block()`) released its locks before they could be seen: its
lock is read from its parse tree instead. Each statement also records the line of the
revision file it came from: the line `upgrade()` (or `downgrade()`) was at when it was sent.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from dbtasks.migrations.journal import TABLE as JOURNAL
from dbtasks.plan import locks as modes
from dbtasks.plan.model import Lock, Traced
from dbtasks.plan.observe import KINDS, State, facts, new_locks, observe
from dbtasks.plan.statements import classify

if TYPE_CHECKING:
    from sqlalchemy import Connection

# Called with the driver connection and the catalog just before the revision's first
# statement, inside its transaction: the downgrade check writes its generated rows there.
FirstHook = Callable[[Any, State], None]


class Tracer:
    """Records the statements of one revision run at a time on `connection`."""

    def __init__(self, connection: Connection, version_table: str) -> None:
        self.connection = connection
        self.version_table = version_table
        self._theirs = (version_table, JOURNAL)  # the runner's tables, never the revision's
        self.on_first: FirstHook | None = None
        self.start()

    def start(self, path: str | None = None) -> None:
        """Forget the last revision: the next statement starts a new one, of the revision
        file at `path` (whose lines the statements record)."""
        self.path = os.path.realpath(path) if path else None
        self.statements: list[Traced] = []
        self.before: State | None = None  # the catalog before the revision's first statement
        self.last: State | None = None  # after its latest statement
        self._started = 0.0
        self._sql = ""
        self._line: int | None = None

    @property
    def old(self) -> set[int]:
        return set(self.before.rels) if self.before else set()

    @contextmanager
    def listening(self) -> Iterator[None]:
        from sqlalchemy import event

        event.listen(self.connection, "before_cursor_execute", self._before)
        event.listen(self.connection, "after_cursor_execute", self._after)
        try:
            yield
        finally:
            event.remove(self.connection, "before_cursor_execute", self._before)
            event.remove(self.connection, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        self._sql = _text(cursor, statement, parameters)
        if classify(self._sql, self.version_table).ignored:
            return
        if self.before is None:
            self.before = self.last = _observe(cursor.connection)
            if self.on_first is not None and not cursor.connection.autocommit:
                self.on_first(cursor.connection, self.before)
        self._line = _line_in(self.path)
        self._started = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        kind = classify(self._sql, self.version_table)
        if kind.ignored or self.last is None:
            return
        seconds = time.perf_counter() - self._started
        raw = cursor.connection
        now = _observe(raw)
        traced = Traced(
            sql=self._sql,
            seconds=seconds,
            transactional=not raw.autocommit,
            lock_timeout=now.lock_timeout,
            statement_timeout=now.statement_timeout,
            facts=facts(self.last, now, self.old),
            reads=kind.reads,
            after_exclusive=_exclusive(self.last, self.old),
            line=self._line,
        )
        traced.locks = self._locks(self.last, now, kind.node, traced)
        self.statements.append(traced)
        self.last = now

    def _locks(self, before: State, now: State, node: Any, traced: Traced) -> list[Lock]:
        taken = new_locks(before, now, self.old)
        found = [_lock(before, now, oid, mode) for oid, mode in taken.items()]
        found = [
            lock for oid, lock in zip(taken, found, strict=True) if not self._runners(now, oid)
        ]
        if not traced.transactional and node is not None:
            mode = modes.inferred(node)
            tables = {fact.table for fact in traced.facts} or set(_named_tables(node, before))
            found += [Lock(table, "table", mode, observed=False) for table in tables if mode]
        return found

    def _runners(self, state: State, oid: int) -> bool:
        """A relation of the version table or the timing history (or an index of one)."""
        index = state.idx.get(oid) or (self.before.idx.get(oid) if self.before else None)
        name = state.name(index.table if index else oid)
        return name.rpartition(".")[2] in self._theirs

    def created(self) -> list[str]:
        """Tables the revision made (they exist after it and did not before)."""
        if self.before is None or self.last is None:
            return []
        return [r.qualified for oid, r in self.last.tables().items() if oid not in self.before.rels]


def _line_in(path: str | None) -> int | None:
    """The line the revision file's outermost frame is at (its `upgrade()` or `downgrade()`,
    not a helper it calls). Frames are matched by their module's `__file__`: the code of a
    revision file may be cached from a copy of it elsewhere."""
    if path is None:
        return None
    line = None
    frame = inspect.currentframe()
    while frame is not None:
        name = frame.f_globals.get("__file__")
        if isinstance(name, str) and _real(name) == path:
            line = frame.f_lineno
        frame = frame.f_back
    return line


@lru_cache(maxsize=1024)
def _real(path: str) -> str:
    return os.path.realpath(path)


def _observe(raw: Any) -> State:
    with raw.cursor() as cur:
        return observe(cur)


def _lock(before: State, now: State, oid: int, mode: str) -> Lock:
    rel = now.rels.get(oid) or before.rels.get(oid)
    kind = KINDS.get(rel.kind, "table") if rel else "table"
    return Lock(rel.qualified if rel else str(oid), kind, mode)


def _exclusive(state: State, old: set[int]) -> str | None:
    """An old table this transaction already holds ACCESS EXCLUSIVE on."""
    for oid, mode in state.locks.items():
        rel = state.rels.get(oid)
        if oid in old and mode == modes.ACCESS_EXCLUSIVE and rel and rel.kind in ("r", "p"):
            return rel.qualified
    return None


def _named_tables(node: Any, state: State) -> list[str]:
    """Old tables a statement names (for a lock read from its parse tree)."""
    from dbtasks.plan.statements import _relations

    names = {rel.name: rel.qualified for rel in state.tables().values()}
    qualified = {rel.qualified for rel in state.tables().values()}
    found = []
    for schema, name in _relations(node):
        key = f"{schema}.{name}" if schema else names.get(name, "")
        if key in qualified:
            found.append(key)
    return found


def _text(cursor: Any, statement: str, parameters: Any) -> str:
    """What the server received, parameters in place."""
    if not parameters or isinstance(parameters, list):
        return statement
    text = cursor.mogrify(statement, parameters)
    return text.decode() if isinstance(text, bytes) else str(text)
