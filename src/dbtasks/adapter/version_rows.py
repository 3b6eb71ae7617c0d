"""The version table's row moves by one statement of ours per revision, with its timing row.

Alembic builds a new UPDATE for every revision it applies, with the revision ids as
literals, so SQLAlchemy's statement cache never hits and each one is compiled afresh:
about a third of a millisecond a revision, more than the round trip itself. While dbtasks
runs revisions, the move is one statement composed once and sent on the revision's own
driver cursor, in its transaction, and it carries what the runner adds to that transaction
(the timing row) in the same round trip. Alembic's bookkeeping is kept as it is: the heads
it tracks, and its error when the row to move is not there. Offline SQL and drivers other
than psycopg2 (whose simple-query protocol takes several statements at once) get
Alembic's own statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from dbtasks.errors import DbTasksError, first_line


@dataclass(frozen=True)
class Rider:
    """A statement that rides along with a version row's move, and whose it is."""

    sql: str  # "%" doubled wherever the driver must not read a placeholder
    params: tuple[Any, ...]
    revision: str


# Asked when a row moves: what rides with it (None: nothing). The connection is the
# revision's own, inside its transaction.
Riders = Callable[[Any], Rider | None]


# The run in progress on this thread (and what rides with its moves): Alembic's class is
# patched once, and the patch acts only inside `moved_by_us`, whatever runs elsewhere.
_active: ContextVar[tuple[Riders | None] | None] = ContextVar("dbtasks_version_rows", default=None)
_texts: dict[tuple[str | None, str], str] = {}  # the statement, composed once per table


@contextmanager
def moved_by_us(riders: Riders | None = None) -> Iterator[None]:
    """While revisions run in this block, version rows move by our statement."""
    _patch()
    token = _active.set((riders,))
    try:
        yield
    finally:
        _active.reset(token)


@functools.cache
def _patch() -> None:
    from alembic.runtime.migration import HeadMaintainer

    original = HeadMaintainer._update_version

    def update(self: Any, from_: str, to_: str) -> None:
        active, context = _active.get(), self.context
        if active is None or context.as_sql or context.dialect.driver != "psycopg2":
            original(self, from_, to_)
            return
        assert to_ not in self.heads  # as Alembic asserts
        self.heads.remove(from_)
        self.heads.add(to_)
        riders = active[0]
        _move(context, from_, to_, riders(context.connection) if riders else None)

    HeadMaintainer._update_version = update  # type: ignore[method-assign]


def _move(context: Any, from_: str, to_: str, rider: Rider | None) -> None:
    from alembic.util import CommandError

    raw = context.connection.connection.dbapi_connection
    key = (context.version_table_schema, context.version_table)
    with raw.cursor() as cur:
        if key not in _texts:
            _texts[key] = _update_text(cur, *key)
        text, params = _texts[key], (to_, from_)
        if rider is not None:
            text, params = f"{rider.sql}; {text}", (*rider.params, *params)
        try:
            cur.execute(text, params)
        except Exception as exc:
            if rider is None or not _is_database_error(exc):
                raise
            raise DbTasksError(
                f"recording revision {rider.revision} failed: {first_line(exc)}; it was rolled back"
            ) from exc
        found = cur.rowcount  # the UPDATE's, the last statement
    if found != 1:  # Alembic's own check, and its words
        raise CommandError(
            f"Online migration expected to match one row when updating '{from_}' to "
            f"'{to_}' in '{context.version_table}'; {found} found"
        )


def _update_text(cur: Any, schema: str | None, table_name: str) -> str:
    from psycopg2 import sql

    names = [n for n in (schema, table_name) if n]
    table = sql.SQL(".").join(map(sql.Identifier, names))
    head = sql.SQL("UPDATE {} SET version_num = ").format(table).as_string(cur)
    return head.replace("%", "%%") + "%s WHERE version_num = %s"


def _is_database_error(exc: BaseException) -> bool:
    import psycopg2

    # A cancelled statement (Ctrl-C, the lock lost) is the runner's to report.
    return isinstance(exc, psycopg2.Error) and not isinstance(
        exc, psycopg2.extensions.QueryCanceledError
    )
