"""A schema as the diagrams see it: tables (and views) with their columns, keys, indexes,
row-level security, and the enum and domain types their columns use.

Plain frozen data, in a stable order (tables by schema and name, columns in table order),
so that every format renders the same bytes from the same schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

TableKey = tuple[str, str]  # (schema, name)
ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as Postgres spells it, unqualified in its own schema: "numeric(10,2)"
    nullable: bool = True
    default: str | None = None
    identity: str | None = None  # "always" or "by default"
    generated: str | None = None  # the expression of a stored generated column
    comment: str | None = None
    udt: TableKey | None = None  # the enum, domain or composite type (of an array's elements)
    udt_kind: str = "base"  # "enum", "domain", "composite", "range", "base"
    array: bool = False


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target: TableKey
    target_columns: tuple[str, ...]
    on_delete: str = "no action"
    on_update: str = "no action"


@dataclass(frozen=True)
class Index:
    name: str
    definition: str
    unique: bool
    primary: bool
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str = "table"  # see KINDS
    columns: tuple[Column, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[tuple[str, ...], ...] = ()
    checks: tuple[str, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    rls: bool = False
    rls_forced: bool = False
    policies: int = 0
    definition: str | None = None  # a view's query

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    @property
    def is_view(self) -> bool:
        return self.kind in ("view", "materialized view")

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def keys_of(self, column: str) -> tuple[str, ...]:
        """The key marks of a column: PK, FK, UK."""
        marks = []
        if column in self.primary_key:
            marks.append("PK")
        if any(column in fk.columns for fk in self.foreign_keys):
            marks.append("FK")
        if any(column in unique for unique in self.uniques):
            marks.append("UK")
        return tuple(marks)


@dataclass(frozen=True)
class EnumType:
    schema: str
    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    schema: str
    name: str
    base: str
    nullable: bool = True
    default: str | None = None
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    """Everything read: tables and views by key, and the types their columns use."""

    tables: Mapping[TableKey, Table]
    enums: Mapping[TableKey, EnumType] = field(default_factory=dict)
    domains: Mapping[TableKey, Domain] = field(default_factory=dict)

    def ordered(self) -> Iterator[Table]:
        for key in sorted(self.tables):
            yield self.tables[key]


def label(key: TableKey, home: str | None) -> str:
    """A table's name as the diagrams print it: qualified outside the `home` schema."""
    schema, name = key
    return name if schema == home else f"{schema}.{name}"
