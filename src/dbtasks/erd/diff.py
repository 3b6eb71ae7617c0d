"""What changed between two schemas, and one schema that shows both: B's tables, with A's
dropped tables, columns and foreign keys put back so that the diagrams can mark them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from dbtasks.erd.model import Column, Schema, Table, TableKey

ADDED, DROPPED, CHANGED = "added", "dropped", "changed"
ColumnKey = tuple[str, str, str]  # (schema, table, column); also (schema, table, foreign key)
_TABLE_FIELDS = (
    ("kind", "kind"),
    ("primary_key", "primary key"),
    ("uniques", "unique constraints"),
    ("checks", "checks"),
    ("comment", "comment"),
    ("rls", "RLS"),
    ("rls_forced", "forced RLS"),
    ("policies", "policies"),
    ("definition", "view definition"),
)


@dataclass(frozen=True)
class Changes:
    tables: Mapping[TableKey, str] = field(default_factory=dict)
    columns: Mapping[ColumnKey, str] = field(default_factory=dict)
    foreign_keys: Mapping[ColumnKey, str] = field(default_factory=dict)
    # What a changed column or table was: "type integer → bigint", "RLS off → on".
    notes: Mapping[ColumnKey | TableKey, tuple[str, ...]] = field(default_factory=dict)

    def table(self, key: TableKey) -> str | None:
        return self.tables.get(key)

    def column(self, key: TableKey, name: str) -> str | None:
        return self.columns.get((*key, name))

    def foreign_key(self, key: TableKey, name: str) -> str | None:
        return self.foreign_keys.get((*key, name))

    def summary(self, shown: Mapping[TableKey, Any] | None = None) -> list[str]:
        """One line per change ("+ table app.notes", "- column app.notes.body"), in order;
        only for tables in `shown` when given."""
        lines: list[str] = []
        signs = {ADDED: "+", DROPPED: "-", CHANGED: "~"}
        for key, mark in sorted(self.tables.items()):
            if shown is not None and key not in shown:
                continue
            if mark != CHANGED:
                lines.append(f"{signs[mark]} table {'.'.join(key)}")
                continue
            for note in self.notes.get(key, ()):
                lines.append(f"~ table {'.'.join(key)}: {note}")
            for (s, t, c), cmark in sorted(self.columns.items()):
                if (s, t) == key:
                    what = "; ".join(self.notes.get((s, t, c), ()))
                    lines.append(
                        f"{signs[cmark]} column {s}.{t}.{c}" + (f": {what}" if what else "")
                    )
            for (s, t, f), fmark in sorted(self.foreign_keys.items()):
                if (s, t) == key:
                    lines.append(f"{signs[fmark]} foreign key {s}.{t}.{f}")
        return lines


def compare(a: Schema, b: Schema) -> tuple[Schema, Changes]:
    """The merged schema and the changes from `a` to `b`."""
    tables: dict[TableKey, Table] = dict(b.tables)
    marks: dict[TableKey, str] = {}
    columns: dict[ColumnKey, str] = {}
    fks: dict[ColumnKey, str] = {}
    notes: dict[Any, tuple[str, ...]] = {}
    for key in sorted(a.tables.keys() | b.tables.keys()):
        old, new = a.tables.get(key), b.tables.get(key)
        if new is None:
            assert old is not None
            tables[key], marks[key] = old, DROPPED
        elif old is None:
            marks[key] = ADDED
        else:
            merged, changed = _table(old, new, columns, fks, notes)
            if changed:
                tables[key], marks[key] = merged, CHANGED
    schema = Schema(
        dict(sorted(tables.items())), {**a.enums, **b.enums}, {**a.domains, **b.domains}
    )
    return schema, Changes(marks, columns, fks, notes)


def _table(
    old: Table,
    new: Table,
    columns: dict[ColumnKey, str],
    fks: dict[ColumnKey, str],
    notes: dict[Any, tuple[str, ...]],
) -> tuple[Table, bool]:
    """`new` with `old`'s dropped columns and foreign keys back; True when it changed."""
    key = new.key
    _columns(old, new, columns, notes)
    _marked(key, {f.name: f for f in old.foreign_keys}, {f.name: f for f in new.foreign_keys}, fks)
    said = _table_notes(old, new)
    if said:
        notes[key] = said
    changed = bool(said) or any(k[:2] == key for k in (*columns, *fks))
    kept = {c.name for c in new.columns}
    named = {f.name for f in new.foreign_keys}
    gone = tuple(fk for fk in old.foreign_keys if fk.name not in named)
    merged = replace(
        new,
        columns=new.columns + tuple(c for c in old.columns if c.name not in kept),
        foreign_keys=tuple(sorted(new.foreign_keys + gone, key=lambda fk: fk.name)),
    )
    return merged, changed


def _columns(
    old: Table, new: Table, marks: dict[ColumnKey, str], notes: dict[Any, tuple[str, ...]]
) -> None:
    before = {c.name: c for c in old.columns}
    after = {c.name: c for c in new.columns}
    _marked(new.key, before, after, marks, same=lambda a, b: not _column_notes(a, b))
    for name in before.keys() & after.keys():
        said = _column_notes(before[name], after[name])
        if said:
            notes[(*new.key, name)] = said


def _marked(
    key: TableKey,
    before: dict[str, Any],
    after: dict[str, Any],
    marks: dict[ColumnKey, str],
    same: Any = None,
) -> None:
    """Each name added, dropped or changed (by `same`, default `==`) between two tables."""
    for name in sorted(before.keys() | after.keys()):
        if name not in before:
            marks[(*key, name)] = ADDED
        elif name not in after:
            marks[(*key, name)] = DROPPED
        elif not (same(before[name], after[name]) if same else before[name] == after[name]):
            marks[(*key, name)] = CHANGED


def _column_notes(old: Column, new: Column) -> tuple[str, ...]:
    said = []
    for each in fields(Column):
        if each.name in ("name", "udt", "udt_kind", "array"):
            continue
        was, now = getattr(old, each.name), getattr(new, each.name)
        if was == now:
            continue
        if each.name == "nullable":
            said.append("now nullable" if now else "now NOT NULL")
        else:
            said.append(f"{each.name} {_show(was)} → {_show(now)}")
    return tuple(said)


def _table_notes(old: Table, new: Table) -> tuple[str, ...]:
    said = []
    for name, spoken in _TABLE_FIELDS:
        was, now = getattr(old, name), getattr(new, name)
        if was != now:
            said.append(f"{spoken} {_show(was)} → {_show(now)}")
    old_ix = {i.name: i for i in old.indexes}
    new_ix = {i.name: i for i in new.indexes}
    for name in sorted(old_ix.keys() | new_ix.keys()):
        if name not in old_ix:
            said.append(f"index {name} added")
        elif name not in new_ix:
            said.append(f"index {name} dropped")
        elif old_ix[name] != new_ix[name]:
            said.append(f"index {name} changed")
    return tuple(said)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) or "(none)"
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"
