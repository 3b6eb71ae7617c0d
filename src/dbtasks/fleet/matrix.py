"""`inv db.status --all`: where every member stands, from one read per database.

Members that share a database (tenant schemas on one server) are read together: one
catalog query finds which of their schemas hold a version table and a timing history,
one query reads them all and one hashes each schema's shape (`fleet.drift`), so a
thousand tenants cost three round trips, not thousands. Databases are read on a bounded
pool of connections, read-only sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dbtasks.errors import first_line
from dbtasks.fleet import drift

if TYPE_CHECKING:
    from dbtasks.fleet.members import Member
    from dbtasks.migrations.graph import Graph

_FINDS = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%s) AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
"""


@dataclass
class Row:
    """One member's line of the matrix."""

    member: str
    target: str
    role: str
    where: str  # the masked URL, and the schema
    current: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    pending: int = 0
    unknown: list[str] = field(default_factory=list)
    last_applied: datetime | None = None
    error: str | None = None
    shape: str | None = None  # a hash of the schema (fleet.drift)
    drift: str = ""  # "same", what it differs from, or "" (nothing to compare with)

    @property
    def state(self) -> str:
        if self.error is not None:
            return "unreachable"
        if self.unknown:
            return "unknown revision"
        if self.pending:
            return f"{self.pending} pending"
        return "at head" if self.current else "empty"

    @property
    def at_head(self) -> bool:
        return self.error is None and not self.unknown and not self.pending

    def as_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "target": self.target,
            "role": self.role,
            "where": self.where,
            "state": self.state,
            "current": list(self.current),
            "heads": list(self.heads),
            "pending": self.pending,
            "unknown": self.unknown,
            "last_applied": self.last_applied.isoformat() if self.last_applied else None,
            "error": self.error,
            "drift": self.drift or None,
        }


def read_matrix(
    members: Sequence[Member], graph: Callable[[Member], Graph], connections: int
) -> list[Row]:
    """Every member's row, in the members' order, reading at most `connections`
    databases at once; `graph` gives a member's history (one for all, or its own)."""
    from concurrent.futures import ThreadPoolExecutor

    by_database: dict[tuple[str, int, str], list[Member]] = defaultdict(list)
    for member in members:
        by_database[member.database].append(member)
    # Threads, not processes: each waits on its server, and psycopg2 lets go of the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(connections, len(by_database)))) as pool:
        found: dict[str, Row] = {}
        for rows in pool.map(lambda group: _read_database(group, graph), by_database.values()):
            found.update((row.member, row) for row in rows)
    ordered = [found[member.name] for member in members]
    drift.mark(ordered)
    return ordered


def _read_database(members: list[Member], graph: Callable[[Member], Graph]) -> list[Row]:
    from dbtasks import pg

    rows = [_row(member, graph(member).heads) for member in members]
    try:
        conn = pg.connect(members[0].settings.endpoint, application="dbtasks fleet")
    except Exception as exc:  # one database that does not answer is one row, not the run
        for row in rows:
            row.error = _why(exc, members[0])
        return rows
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cur:
            versions, applied = _read_versions(cur, members)
            shapes = drift.shapes(cur, [m.settings.schema for m in members])
    except Exception as exc:
        for row in rows:
            row.error = _why(exc, members[0])
        return rows
    finally:
        conn.close()
    for member, row in zip(members, rows, strict=True):
        _place(row, graph(member), versions.get(_version_schema(member), ()))
        row.last_applied = applied.get(member.settings.schema)
        row.shape = shapes.get(member.settings.schema)
    return rows


def _row(member: Member, heads: tuple[str, ...]) -> Row:
    s = member.settings
    return Row(
        member.name, member.target.name, s.environment, f"{s.masked_url} ({s.schema})", (), heads
    )


def _read_versions(
    cur: Any, members: Iterable[Member]
) -> tuple[dict[str, tuple[str, ...]], dict[str, datetime]]:
    """Each schema's current revisions and when dbtasks last applied one there."""
    from psycopg2 import sql

    from dbtasks.migrations.journal import TABLE

    chosen = list(members)
    table = chosen[0].settings.version_table
    schemas = sorted({m.settings.schema for m in chosen} | {_version_schema(m) for m in chosen})
    cur.execute(_FINDS, (schemas, [table, TABLE]))
    present = set(cur.fetchall())
    parts = []
    for schema in schemas:
        if (schema, table) in present:
            parts.append(
                sql.SQL("SELECT {}, version_num::text, NULL::timestamptz FROM {}.{}").format(
                    sql.Literal(schema), sql.Identifier(schema), sql.Identifier(table)
                )
            )
        if (schema, TABLE) in present:
            parts.append(
                sql.SQL(
                    "SELECT {}, NULL, max(started_at) FROM {}.{} WHERE outcome = 'applied'"
                ).format(sql.Literal(schema), sql.Identifier(schema), sql.Identifier(TABLE))
            )
    versions: dict[str, tuple[str, ...]] = defaultdict(tuple)
    applied: dict[str, datetime] = {}
    if not parts:
        return versions, applied
    cur.execute(sql.SQL(" UNION ALL ").join(parts))
    for schema, version, when in cur.fetchall():
        if version is not None:
            versions[schema] += (version,)
        elif when is not None:
            applied[schema] = when
    return versions, applied


def _version_schema(member: Member) -> str:
    return member.settings.version_schema or member.settings.schema


def _place(row: Row, graph: Graph, current: tuple[str, ...]) -> None:
    row.current = tuple(sorted(current))
    row.unknown = graph.unknown(current)
    if not row.unknown:
        row.pending = len(graph.pending(current))


def _why(exc: BaseException, member: Member) -> str:
    from dbtasks.target import redact

    return redact(first_line(exc), [member.settings.endpoint.password])
