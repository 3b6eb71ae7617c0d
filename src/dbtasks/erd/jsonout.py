"""JSON: everything read, for machines: tables with columns, keys, foreign keys and their
actions, unique constraints, checks, indexes, row-level security, views, comments; the
enum and domain types; the chunks; and a diff's changes. Keys in a fixed order."""

from __future__ import annotations

import json
from typing import Any

from dbtasks.erd import marks
from dbtasks.erd.layout import Layout
from dbtasks.erd.model import Column, Table, TableKey
from dbtasks.erd.select import Picture

FORMAT = "dbtasks-erd/1"


def document(layout: Layout) -> str:
    picture = layout.picture
    payload: dict[str, Any] = {
        "format": FORMAT,
        "revisions": list(layout.revisions),
        "tables": [_table(picture, layout, t) for t in picture.tables()],
        "stubs": [
            {"schema": k[0], "name": k[1], "columns": list(cols)}
            for k, cols in picture.stubs(picture.drawn).items()
        ],
        "enums": [
            {"schema": e.schema, "name": e.name, "labels": list(e.labels)}
            for e in picture.schema.enums.values()
            if (e.schema, e.name) in _used(picture)
        ],
        "domains": [
            {
                "schema": d.schema,
                "name": d.name,
                "base": d.base,
                "nullable": d.nullable,
                "default": d.default,
                "checks": list(d.checks),
            }
            for d in picture.schema.domains.values()
            if (d.schema, d.name) in _used(picture)
        ],
        "chunks": [
            {"number": c.number, "tables": [".".join(k) for k in c.tables]} for c in layout.chunks
        ],
    }
    if picture.changes is not None:
        payload["since"] = list(layout.since or ())
        payload["changes"] = picture.changes.summary(dict.fromkeys(picture.drawn))
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _used(picture: Picture) -> set[TableKey]:
    return {c.udt for t in picture.tables() for c in t.columns if c.udt is not None}


def _table(picture: Picture, layout: Layout, table: Table) -> dict[str, Any]:
    changes = picture.changes
    return {
        "schema": table.schema,
        "name": table.name,
        "kind": table.kind,
        "comment": table.comment,
        "change": changes.table(table.key) if changes else None,
        "notes": list(changes.notes.get(table.key, ())) if changes else [],
        "rls": {"enabled": table.rls, "forced": table.rls_forced, "policies": table.policies},
        "columns": [_column(picture, table, c) for c in table.columns],
        "primary_key": list(table.primary_key),
        "foreign_keys": [
            {
                "name": fk.name,
                "columns": list(fk.columns),
                "references": {
                    "schema": fk.target[0],
                    "table": fk.target[1],
                    "columns": list(fk.target_columns),
                },
                "on_delete": fk.on_delete,
                "on_update": fk.on_update,
                "change": changes.foreign_key(table.key, fk.name) if changes else None,
            }
            for fk in table.foreign_keys
        ],
        "unique": [list(u) for u in table.uniques],
        "checks": list(table.checks),
        "indexes": [
            {
                "name": i.name,
                "columns": list(i.columns),
                "unique": i.unique,
                "primary": i.primary,
                "definition": i.definition,
            }
            for i in table.indexes
        ],
        "definition": table.definition,
        "chunk": layout.where.get(table.key),
    }


def _column(picture: Picture, table: Table, column: Column) -> dict[str, Any]:
    changes = picture.changes
    return {
        "name": column.name,
        "type": column.type,
        "nullable": column.nullable,
        "default": column.default,
        "identity": column.identity,
        "generated": column.generated,
        "comment": column.comment,
        "keys": list(table.keys_of(column.name)),
        "type_kind": column.udt_kind,
        "type_detail": marks.type_detail(picture.schema, column),
        "array": column.array,
        "change": changes.column(table.key, column.name) if changes else None,
    }
