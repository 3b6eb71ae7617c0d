"""The catalog of the scratch clone as the migrating backend sees it, between statements.

One round trip reads everything the tracer compares: relations with their relfilenode (a
new one means the relation was rewritten), columns by attribute number (stable across a
rename), constraints with their validation state, indexes, and the relation locks this
backend holds (`pg_locks` of `pg_backend_pid()`: the migrating transaction's own). Run on
the migrating connection between its statements, inside its transaction: reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbtasks.plan.model import Fact

_USER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
)
STATE_SQL = f"""
SELECT
 (SELECT coalesce(json_agg(json_build_array(c.oid, n.nspname, c.relname, c.relkind,
     c.relfilenode)), '[]') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE {_USER} AND c.relkind IN ('r', 'p', 'i', 'I', 'm', 'S', 'v')),
 (SELECT coalesce(json_agg(json_build_array(a.attrelid, a.attnum, a.attname,
     format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
     a.attidentity <> '' OR a.attgenerated <> '', t.typtype = 'e', a.atttypid)), '[]')
   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
   WHERE {_USER} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped),
 (SELECT coalesce(json_agg(json_build_array(k.oid, k.conrelid, k.conname, k.contype,
     k.convalidated, pg_get_constraintdef(k.oid), k.conkey, k.confrelid, k.confkey)), '[]')
   FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER}),
 (SELECT coalesce(json_agg(json_build_array(x.indexrelid, x.indrelid, x.indisvalid,
     x.indisunique, string_to_array(x.indkey::text, ' ')::int[], x.indpred IS NOT NULL)), '[]')
   FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER}),
 (SELECT coalesce(json_agg(json_build_array(l.relation, l.mode)), '[]') FROM pg_locks l
   WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted),
 current_setting('lock_timeout'), current_setting('statement_timeout')
"""
KINDS = {"r": "table", "p": "table", "i": "index", "I": "index", "m": "view", "S": "sequence"}
KINDS["v"] = "view"


@dataclass(frozen=True)
class Rel:
    schema: str
    name: str
    kind: str  # pg_class.relkind
    filenode: int

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    not_null: bool
    has_default: bool
    generated: bool  # identity or generated: never given a value
    enum: bool
    type_oid: int


@dataclass(frozen=True)
class Con:
    table: int
    name: str
    type: str  # c, f, p, u, x, t
    validated: bool
    definition: str
    keys: tuple[int, ...]
    references: int  # confrelid (0: none)
    ref_keys: tuple[int, ...]


@dataclass(frozen=True)
class Idx:
    table: int
    valid: bool
    unique: bool
    keys: tuple[int, ...]
    partial: bool


@dataclass
class State:
    rels: dict[int, Rel] = field(default_factory=dict)
    cols: dict[tuple[int, int], Col] = field(default_factory=dict)
    cons: dict[int, Con] = field(default_factory=dict)
    idx: dict[int, Idx] = field(default_factory=dict)
    locks: dict[int, str] = field(default_factory=dict)  # relation -> strongest mode held
    lock_timeout: str = "0"
    statement_timeout: str = "0"

    def name(self, oid: int) -> str:
        rel = self.rels.get(oid)
        return rel.qualified if rel else str(oid)

    def columns(self, table: int) -> dict[int, Col]:
        return {num: col for (rel, num), col in self.cols.items() if rel == table}

    def tables(self, schema: str | None = None) -> dict[int, Rel]:
        return {
            oid: rel
            for oid, rel in self.rels.items()
            if rel.kind in ("r", "p") and (schema is None or rel.schema == schema)
        }


def observe(cur: Any) -> State:
    """The catalog as `cur`'s backend sees it now (a psycopg2 cursor, inside whatever
    transaction its connection is in)."""
    from dbtasks.plan.locks import strength

    cur.execute(STATE_SQL)
    rels, cols, cons, idx, locks, lock_timeout, statement_timeout = cur.fetchone()
    held: dict[int, str] = {}
    for relation, mode in locks:
        if strength(mode) > strength(held.get(relation, "")):
            held[relation] = mode
    return State(
        rels={r[0]: Rel(r[1], r[2], r[3], r[4]) for r in rels},
        cols={(c[0], c[1]): Col(c[2], c[3], c[4], c[5], c[6], c[7], c[8]) for c in cols},
        cons={
            k[0]: Con(k[1], k[2], k[3], k[4], k[5], _ints(k[6]), k[7], _ints(k[8])) for k in cons
        },
        idx={x[0]: Idx(x[1], x[2], x[3], _ints(x[4]), x[5]) for x in idx},
        locks=held,
        lock_timeout=str(lock_timeout),
        statement_timeout=str(statement_timeout),
    )


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value or ())


def facts(before: State, after: State, old: set[int]) -> list[Fact]:
    """What changed from `before` to `after` on relations in `old` (those older than the
    revision): what the revision made itself is never a finding."""
    found = [
        *_relations(before, after, old),
        *_columns(before, after, old),
        *_constraints(before, after, old, _dropped_constraints(before, after)),
        *_indexes(before, after, old),
    ]
    return _rebuilt(found)


def _rebuilt(found: list[Fact]) -> list[Fact]:
    """An index dropped and made again under the same name in one statement (a type
    change or rewrite rebuilds them) is part of that statement's rewrite, not news."""
    dropped = {f.detail for f in found if f.kind == "drop index"}
    made = {f.detail for f in found if f.kind == "index"}
    again = dropped & made
    return [f for f in found if not (f.kind in ("drop index", "index") and f.detail in again)]


def _dropped_constraints(before: State, after: State) -> set[tuple[int, str]]:
    return {(c.table, c.name) for oid, c in before.cons.items() if oid not in after.cons}


def _relations(before: State, after: State, old: set[int]) -> list[Fact]:
    found = []
    for oid, rel in before.rels.items():
        if oid not in old or rel.kind not in ("r", "p", "m", "i", "I"):
            continue
        now = after.rels.get(oid)
        kind = KINDS.get(rel.kind, "table")
        table = rel.qualified if kind != "index" else _owner(before, oid)
        if now is None:
            found.append(Fact(f"drop {kind}", table, rel.qualified))
        elif now.name != rel.name:
            found.append(Fact("rename", table, f"{rel.name} → {now.name}", (kind,)))
        elif now.filenode != rel.filenode and rel.kind in ("r", "p", "m"):
            found.append(Fact("rewrite", rel.qualified))
    return found


def _owner(state: State, index: int) -> str:
    found = state.idx.get(index)
    return state.name(found.table) if found else state.name(index)


def _columns(before: State, after: State, old: set[int]) -> list[Fact]:
    found = []
    for key in before.cols.keys() | after.cols.keys():
        table, _ = key
        if table not in old or table not in after.rels:
            continue
        was, now = before.cols.get(key), after.cols.get(key)
        found += _column(after.name(table), was, now, _checked(before, table, was))
    return found


def _checked(state: State, table: int, col: Col | None) -> bool:
    """A validated CHECK (col IS NOT NULL) exists: SET NOT NULL then skips its scan."""
    if col is None:
        return False
    plain = col.name.replace("_", "a").isalnum() and col.name == col.name.lower()
    ident = col.name if plain else '"' + col.name.replace('"', '""') + '"'
    wanted = f"CHECK (({ident} IS NOT NULL))"
    return any(
        con.table == table and con.type == "c" and con.validated and con.definition == wanted
        for con in state.cons.values()
    )


def _column(table: str, was: Col | None, now: Col | None, checked: bool = False) -> list[Fact]:
    if was is None and now is not None:
        flags: tuple[str, ...] = ("json",) if now.type == "json" else ()
        flags += ("not null",) if now.not_null else ()
        flags += ("default",) if now.has_default or now.generated else ()
        return [Fact("column", table, f"{now.name} {now.type}", flags)]
    if now is None and was is not None:
        return [Fact("drop column", table, was.name)]
    assert was is not None
    assert now is not None
    changes = []
    if was.name != now.name:
        changes.append(Fact("rename", table, f"{was.name} → {now.name}", ("column",)))
    if was.type != now.type:
        changes.append(Fact("type", table, f"{now.name}: {was.type} → {now.type}"))
    if now.not_null and not was.not_null:
        changes.append(Fact("not null", table, now.name, ("checked",) if checked else ()))
    return changes


def _constraints(
    before: State, after: State, old: set[int], dropped: set[tuple[int, str]]
) -> list[Fact]:
    found = []
    for oid, con in after.cons.items():
        if con.table not in old or (oid not in before.cons and (con.table, con.name) in dropped):
            continue  # new, or made again under its name (a type change rebuilds them)
        was = before.cons.get(oid)
        table = after.name(con.table)
        if was is None:
            flags: tuple[str, ...] = ("not valid",) if not con.validated else ()
            flags += _partitioned(after, con.table)
            found.append(
                Fact("constraint", table, f"{con.name} {con.definition}", (con.type, *flags))
            )
        elif con.validated and not was.validated:
            found.append(Fact("validate", table, con.name, (con.type,)))
    return found


def _partitioned(state: State, table: int) -> tuple[str, ...]:
    """A partitioned table's flag: an index on one cannot be built CONCURRENTLY, nor a
    foreign key on one added NOT VALID."""
    rel = state.rels.get(table)
    return ("partitioned",) if rel is not None and rel.kind == "p" else ()


def _indexes(before: State, after: State, old: set[int]) -> list[Fact]:
    found = []
    for oid, index in after.idx.items():
        if index.table in old and oid not in before.idx:
            flags: tuple[str, ...] = ("unique",) if index.unique else ()
            flags += ("invalid",) if not index.valid else ()
            flags += _partitioned(after, index.table)
            found.append(Fact("index", after.name(index.table), after.name(oid), flags))
    return found


def new_locks(before: State, after: State, old: set[int]) -> dict[int, str]:
    """Locks the statement took (or strengthened) on relations older than its revision."""
    from dbtasks.plan.locks import strength

    return {
        oid: mode
        for oid, mode in after.locks.items()
        if oid in old and strength(mode) > strength(before.locks.get(oid, ""))
    }
