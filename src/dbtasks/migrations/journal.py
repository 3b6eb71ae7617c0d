"""The timing history: every revision dbtasks applies or undoes, with how long it took.

One small table in DB_SCHEMA. A successful revision's row is written inside that
revision's own transaction, so it exists exactly when the revision does; a failed
revision gets one row of its own afterwards. Autogenerate never sees the table.
"""

from __future__ import annotations

import functools
import getpass
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import __version__
from dbtasks.migrations import checksums

if TYPE_CHECKING:
    from dbtasks.grants import Grant
    from dbtasks.migrations.graph import Graph

TABLE = "dbtasks_revision_log"

_COLUMNS = (
    "revision, direction, started_at, duration_ms, outcome, applied_by, dbtasks_version, checksum"
)
_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    revision text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
    started_at timestamptz NOT NULL,
    duration_ms double precision NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('applied', 'undone', 'failed')),
    applied_by text NOT NULL,
    dbtasks_version text NOT NULL,
    checksum text
)
"""


@dataclass(frozen=True)
class Entry:
    revision: str
    direction: str
    started_at: datetime
    duration_ms: float
    outcome: str
    applied_by: str
    dbtasks_version: str
    checksum: str | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "started_at": self.started_at.isoformat()}


def _table(schema: str) -> Any:
    from psycopg2 import sql

    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(TABLE))


def ensure(cur: Any, schema: str, grant: Grant) -> None:
    """The table (and DB_SCHEMA, before the first revision makes it): MIGRATE."""
    from psycopg2 import sql

    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, cur)
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    cur.execute(sql.SQL(_DDL).format(table=_table(schema)))


@functools.cache
def who() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        return "unknown"


_NAMES = tuple(c.strip() for c in _COLUMNS.split(","))


class Rows:
    """Writes the rows of one run inside each revision's transaction. The statement is
    composed once: composing it per revision cost a third of a millisecond each."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._text: str | None = None

    def statement(self, cur: Any, values: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The INSERT of one row and its parameters."""
        if self._text is None:
            from psycopg2 import sql

            head = sql.SQL("INSERT INTO {} ({}) VALUES ").format(
                _table(self.schema), sql.SQL(", ").join(map(sql.Identifier, _NAMES))
            )
            # The driver reads "%" in the text as a placeholder: a schema named with one
            # keeps it, doubled; the values travel as parameters.
            self._text = head.as_string(cur).replace("%", "%%") + _placeholders()
        return self._text, tuple(values[n] for n in _NAMES)

    def write(self, cur: Any, values: dict[str, Any]) -> None:
        cur.execute(*self.statement(cur, values))


def _placeholders() -> str:
    return "(" + ", ".join(["%s"] * len(_NAMES)) + ")"


def row(
    revision: str,
    upgrade: bool,
    started: datetime,
    seconds: float,
    outcome: str,
    checksum: str | None,
) -> dict[str, Any]:
    return {
        "revision": revision,
        "direction": "upgrade" if upgrade else "downgrade",
        "started_at": started,
        "duration_ms": round(seconds * 1000, 3),
        "outcome": outcome,
        "applied_by": who(),
        "dbtasks_version": __version__,
        "checksum": checksum,
    }


def record(cur: Any, schema: str, values: dict[str, Any], grant: Grant) -> None:
    """A row written on its own (autocommit) session: a failure's record."""
    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, cur)
    Rows(schema).write(cur, values)


def edited(
    graph: Graph,
    entries: list[Entry],
    current: tuple[str, ...],
    shas: Mapping[str, str] | None = None,
) -> list[Entry]:
    """The last applying entry of each applied revision whose file changed since. `shas`,
    the files' content hashes when known (the graph cache's), spare reading them."""
    applied = graph.ancestors(current)
    last = {e.revision: e for e in entries if e.outcome == "applied" and e.checksum}
    found = []
    for rev, entry in sorted(last.items()):
        if rev in applied and rev in graph:
            path, recorded = graph.get(rev).path, entry.checksum or ""
            if (shas or {}).get(path) == checksums.raw_part(recorded):
                continue  # the very bytes that were applied
            if Path(path).is_file() and not checksums.unchanged(path, recorded):
                found.append(entry)
    return found


def read(cur: Any, schema: str) -> list[Entry]:
    from psycopg2 import sql

    cur.execute("SELECT to_regclass(%s)", (_table(schema).as_string(cur),))
    if cur.fetchone()[0] is None:
        return []
    cur.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY started_at, id").format(
            sql.SQL(_COLUMNS), _table(schema)
        )
    )
    return [Entry(*r) for r in cur.fetchall()]
