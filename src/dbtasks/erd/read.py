"""The model of `dbtasks.erd.model`, read from a database's catalog (`catalog.erd_rows`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from dbtasks.catalog import SKIPPED
from dbtasks.catalog.erd import erd_rows, erd_schemas
from dbtasks.erd.model import (
    ACTIONS,
    KINDS,
    Column,
    Domain,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
    TableKey,
)

_TYPE_KINDS = {"e": "enum", "d": "domain", "c": "composite", "r": "range", "m": "range"}
_VERSION_COLUMNS = ("version_num",)  # Alembic's version table, whatever it is called


def read_schema(cur: Any, skip: Collection[str] = SKIPPED) -> Schema:
    """Every schema of the database but Postgres' own (selection comes later), without
    Alembic's version table and dbtasks' timing history (`skip`)."""
    rows = erd_rows(cur, erd_schemas(cur))
    columns = _columns(rows.columns)
    built: dict[TableKey, Table] = {}
    for schema, name, kind, comment, rls, forced, policies, definition in rows.relations:
        key = (schema, name)
        cols = tuple(columns.get(key, ()))
        if name in skip or tuple(c.name for c in cols) == _VERSION_COLUMNS:
            continue
        built[key] = Table(
            schema=schema,
            name=name,
            kind=KINDS.get(kind, kind),
            columns=cols,
            comment=comment,
            rls=bool(rls),
            rls_forced=bool(forced),
            policies=int(policies),
            definition=definition,
        )
    _add_constraints(built, rows.constraints)
    _add_indexes(built, rows.indexes)
    return Schema(
        tables=dict(sorted(built.items())),
        enums={(r[0], r[1]): EnumType(r[0], r[1], tuple(r[2])) for r in sorted(rows.enums)},
        domains={(r[0], r[1]): _domain(r) for r in sorted(rows.domains, key=lambda r: r[:2])},
    )


def _columns(rows: Iterable[tuple[Any, ...]]) -> dict[TableKey, list[Column]]:
    found: dict[TableKey, list[Column]] = {}
    for row in rows:
        schema, table, name, spelled, not_null, default, identity, generated, comment = row[:9]
        typtype, type_schema, type_name, is_array = row[9:]
        kind = _TYPE_KINDS.get(typtype, "base")
        found.setdefault((schema, table), []).append(
            Column(
                name=name,
                type=unqualified(spelled, type_schema, schema),
                nullable=not not_null,
                default=default,
                identity=identity,
                generated=generated,
                comment=comment,
                udt=(type_schema, type_name) if kind != "base" else None,
                udt_kind=kind,
                array=bool(is_array),
            )
        )
    return found


def unqualified(spelled: str, type_schema: str, home: str) -> str:
    """A type as `format_type` spelled it, without its schema where that adds nothing (its
    table's own schema, or pg_catalog)."""
    if type_schema not in (home, "pg_catalog"):
        return spelled
    for prefix in (f"{type_schema}.", '"' + type_schema.replace('"', '""') + '".'):
        if spelled.startswith(prefix):
            return spelled[len(prefix) :]
    return spelled


def _add_constraints(tables: dict[TableKey, Table], rows: Iterable[tuple[Any, ...]]) -> None:
    from dataclasses import replace

    parts: dict[TableKey, dict[str, list[Any]]] = {}
    for schema, table, name, kind, columns, fschema, ftable, fcolumns, upd, dele, text in rows:
        if (schema, table) not in tables:
            continue
        into = parts.setdefault((schema, table), {"p": [], "f": [], "u": [], "c": []})
        if kind == "p":
            into["p"] = list(columns)
        elif kind == "f":
            target = (fschema, ftable)
            into["f"].append(
                ForeignKey(
                    name, tuple(columns), target, tuple(fcolumns), ACTIONS[dele], ACTIONS[upd]
                )
            )
        elif kind == "u":
            into["u"].append(tuple(columns))
        else:  # check and exclusion constraints: shown as Postgres writes them
            into["c"].append(f"{name}: {text}")
    for key, found in parts.items():
        tables[key] = replace(
            tables[key],
            primary_key=tuple(found["p"]),
            foreign_keys=tuple(sorted(found["f"], key=lambda fk: fk.name)),
            uniques=tuple(sorted(found["u"])),
            checks=tuple(sorted(found["c"])),
        )


def _add_indexes(tables: dict[TableKey, Table], rows: Iterable[tuple[Any, ...]]) -> None:
    from dataclasses import replace

    found: dict[TableKey, list[Index]] = {}
    for schema, table, name, unique, primary, definition, columns in rows:
        if (schema, table) in tables:
            index = Index(name, definition, bool(unique), bool(primary), tuple(columns))
            found.setdefault((schema, table), []).append(index)
    for key, indexes in found.items():
        tables[key] = replace(tables[key], indexes=tuple(sorted(indexes, key=lambda i: i.name)))


def _domain(row: tuple[Any, ...]) -> Domain:
    schema, name, base, not_null, default, checks = row
    return Domain(schema, name, base, not not_null, default, tuple(checks))
