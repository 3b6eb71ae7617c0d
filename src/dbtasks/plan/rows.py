"""Generated rows for the downgrade check, and what a downgrade took of them.

The rows are written on the clone only, inside the downgrade's own transaction (the
tracer's first-statement hook, within `adapter.run.migrate`, which asked the clone's
grant), which is then rolled back: the clone is left as the upgrade left it. The INSERT
is built by SQLAlchemy's compiler from the catalog's column list, values chosen per type;
a foreign key takes its value from the referenced table, filled first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dbtasks.plan.model import Loss
from dbtasks.plan.observe import Col, State

ROWS = 20  # per table: enough to see a loss, few enough to cost nothing
_CHUNK = 500
_INTEGERS = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "oid")
_TEXTS = ("text", "character varying", "character", "citext", "name")


@dataclass
class Filled:
    """One table's generated rows, counted before the downgrade ran."""

    table: str
    rows: int
    values: dict[int, tuple[str, int]] = field(default_factory=dict)  # attnum -> name, non-nulls


@dataclass
class Fill:
    tables: dict[int, Filled] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # tables that could not be filled, and why


def fill(raw: Any, state: State, tables: list[int], rows: int = ROWS) -> Fill:
    """Write `rows` generated rows into each of `tables` (and the tables their foreign keys
    need first), each behind a savepoint: a table that refuses them is noted, not fatal."""
    done = Fill()
    for oid in _parents_first(state, tables):
        note = _fill_one(raw, state, oid, rows)
        if note:
            done.notes.append(f"{state.name(oid)}: {note}")
    for oid in tables:
        if oid in state.rels:
            done.tables[oid] = count(raw, state, oid)
    return done


def _parents_first(state: State, tables: list[int]) -> list[int]:
    order: list[int] = []

    def visit(oid: int, depth: int) -> None:
        if oid in order or depth > 8 or oid not in state.rels:
            return
        for con in state.cons.values():
            if con.table == oid and con.type == "f" and con.references != oid:
                visit(con.references, depth + 1)
        order.append(oid)

    for oid in tables:
        visit(oid, 0)
    return order


def _fill_one(raw: Any, state: State, oid: int, rows: int) -> str | None:
    import psycopg2

    with raw.cursor() as cur:
        try:
            values = _values(cur, state, oid, rows)
        except _NoValue as exc:
            return str(exc)
        if not values:
            return None
        cur.execute("SAVEPOINT dbtasks_plan_fill")
        try:
            for start in range(0, len(values), _CHUNK):
                text, params = _insert(state, oid, values[start : start + _CHUNK])
                cur.execute(text, params)
        except psycopg2.Error as exc:
            cur.execute("ROLLBACK TO SAVEPOINT dbtasks_plan_fill")
            return f"its generated rows were refused ({_first(exc)})"
        cur.execute("RELEASE SAVEPOINT dbtasks_plan_fill")
    return None


class _NoValue(Exception):
    pass


def _values(cur: Any, state: State, oid: int, rows: int) -> list[dict[str, Any]]:
    columns = state.columns(oid)
    references = _references(cur, state, oid, rows)
    chosen = {num: col for num, col in columns.items() if not col.generated}
    chosen = {n: c for n, c in chosen.items() if n in references or not c.has_default}
    found = []
    for i in range(rows):
        row = {}
        for num, col in chosen.items():
            value = references[num][i] if num in references else _value(cur, col, i)
            if value is None and col.not_null:
                raise _NoValue(f"no value can be generated for column {col.name} ({col.type})")
            row[col.name] = value
        found.append(row)
    return found


def _references(cur: Any, state: State, oid: int, rows: int) -> dict[int, list[Any]]:
    """Values for foreign key columns, read from the referenced tables (cycled)."""
    from psycopg2 import sql

    found: dict[int, list[Any]] = {}
    for con in state.cons.values():
        if con.table != oid or con.type != "f" or con.references not in state.rels:
            continue
        ref = state.rels[con.references]
        names = [state.cols[(con.references, k)].name for k in con.ref_keys]
        cur.execute(
            sql.SQL("SELECT {} FROM {}.{} LIMIT %s").format(
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.Identifier(ref.schema),
                sql.Identifier(ref.name),
            ),
            (rows,),
        )
        got = cur.fetchall()
        for position, key in enumerate(con.keys):
            found[key] = [got[i % len(got)][position] if got else None for i in range(rows)]
    return found


def _value(cur: Any, col: Col, i: int) -> Any:
    base = col.type.split("(")[0].strip()
    if col.type.endswith("[]"):
        return "{}"
    if col.enum:
        cur.execute("SELECT min(enumlabel) FROM pg_enum WHERE enumtypid = %s", (col.type_oid,))
        return cur.fetchone()[0]
    if base in _INTEGERS:
        return (20000 if base == "smallint" else 1_000_000_000) + i
    if base in _TEXTS:
        return _text(col.type, i)
    make = _OTHER.get(base)
    return make(i) if make is not None else None


def _text(type_: str, i: int) -> str:
    text = f"g{i:x}"
    if "(" in type_:
        width = int(type_.split("(")[1].rstrip(")"))
        return text[-width:] if len(text) > width else text
    return text


_START = datetime(2000, 1, 1)
_OTHER: dict[str, Callable[[int], Any]] = {
    "boolean": lambda i: i % 2 == 0,
    "uuid": lambda i: str(uuid.UUID(int=(0x5EED << 64) + i)),
    "date": lambda i: date(2000, 1, 1) + timedelta(days=i),
    "timestamp without time zone": lambda i: _START + timedelta(seconds=i),
    "timestamp with time zone": lambda i: f"{_START + timedelta(seconds=i)}+00",
    "time without time zone": lambda i: "00:00:00",
    "json": lambda i: "{}",
    "jsonb": lambda i: "{}",
    "bytea": lambda i: bytes([i % 256]),
    "inet": lambda i: f"10.0.{i // 256 % 256}.{i % 256}",
    "interval": lambda i: "1 second",
}


def _insert(state: State, oid: int, rows: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The INSERT of `rows`, as SQLAlchemy's Postgres compiler writes it."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    rel = state.rels[oid]
    table = sa.table(rel.name, *(sa.column(name) for name in rows[0]), schema=rel.schema)
    compiled = table.insert().values(rows).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    return str(compiled), dict(compiled.params)


def count(raw: Any, state: State, oid: int) -> Filled:
    """Rows of a table, and the non-null values of each of its columns."""
    from psycopg2 import sql

    rel = state.rels[oid]
    columns = state.columns(oid)
    names = [col.name for col in columns.values()]
    counts = sql.SQL(", ").join(sql.SQL("count({})").format(sql.Identifier(n)) for n in names)
    query = sql.SQL("SELECT count(*){} FROM {}.{}").format(
        sql.SQL(", ") + counts if names else sql.SQL(""),
        sql.Identifier(rel.schema),
        sql.Identifier(rel.name),
    )
    with raw.cursor() as cur:
        cur.execute(query)
        row = cur.fetchone()
    values = {
        num: (col.name, int(n)) for (num, col), n in zip(columns.items(), row[1:], strict=True)
    }
    return Filled(rel.qualified, int(row[0]), values)


def losses(raw: Any, filled: Fill, after: State) -> list[Loss]:
    """What the downgrade took: rows gone, columns dropped (with the values they held)."""
    found = []
    for oid, before in filled.tables.items():
        if oid not in after.rels:
            if before.rows:
                found.append(Loss(before.table, before.rows))
            continue
        now = count(raw, after, oid)
        gone = [num for num in before.values if num not in now.values]
        values = sum(before.values[num][1] for num in gone)
        names = tuple(before.values[num][0] for num in gone)
        if before.rows > now.rows or values:
            found.append(Loss(before.table, max(before.rows - now.rows, 0), names, values))
    return found


def _first(exc: BaseException) -> str:
    from dbtasks.errors import first_line

    return first_line(exc)
