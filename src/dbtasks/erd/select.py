"""Which tables a picture draws: the schemas asked for (by default every schema but
Supabase's managed ones), narrowed to a focus or to a diff's changes and their neighbours;
what they reference beyond that is drawn as a stub (`auth.users`, a table elsewhere)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dbtasks.erd.diff import Changes
from dbtasks.erd.model import Schema, Table, TableKey, label
from dbtasks.errors import ConfigError
from dbtasks.supabase import MANAGED_SCHEMAS


@dataclass(frozen=True)
class Picture:
    """A schema and the part of it one command draws."""

    schema: Schema
    drawn: tuple[TableKey, ...]  # sorted
    home: str | None  # the schema whose tables print unqualified
    rls_badges: bool  # show RLS on every table (a Supabase project), not only where on
    changes: Changes | None = None

    def tables(self, keys: Iterable[TableKey] | None = None) -> list[Table]:
        return [self.schema.tables[k] for k in (self.drawn if keys is None else keys)]

    def name(self, key: TableKey) -> str:
        return label(key, self.home)

    def stubs(self, keys: Iterable[TableKey]) -> dict[TableKey, tuple[str, ...]]:
        """What `keys` reference outside themselves: each table, and its referenced columns."""
        inside = set(keys)
        found: dict[TableKey, set[str]] = {}
        for key in sorted(inside):
            for fk in self.schema.tables[key].foreign_keys:
                if fk.target not in inside:
                    found.setdefault(fk.target, set()).update(fk.target_columns)
        return {k: tuple(sorted(v)) for k, v in sorted(found.items())}


def schemas_to_draw(schema: Schema, asked: Sequence[str]) -> tuple[str, ...]:
    """The schemas named (each must exist and hold something to draw), else every schema
    holding a table or view, but the ones Supabase manages."""
    present = sorted({k[0] for k in schema.tables})
    if not asked:
        return tuple(s for s in present if s not in MANAGED_SCHEMAS)
    for name in asked:
        if name not in present:
            raise ConfigError(
                f"schema {name!r} has no tables or views at this revision",
                f"schemas with tables: {', '.join(present) or '(none)'}",
            )
    return tuple(sorted(set(asked)))


def neighbours(schema: Schema, keys: Iterable[TableKey], among: set[TableKey]) -> set[TableKey]:
    """Tables of `among` one foreign key away from `keys`, in either direction."""
    wanted = set(keys)
    found: set[TableKey] = set()
    for table in schema.tables.values():
        if table.key not in among:
            continue
        for fk in table.foreign_keys:
            if table.key in wanted and fk.target in among:
                found.add(fk.target)
            if fk.target in wanted:
                found.add(table.key)
    return found - wanted


def focus(schema: Schema, start: TableKey, depth: int, among: set[TableKey]) -> set[TableKey]:
    """`start` and the tables within `depth` foreign keys of it."""
    reached, frontier = {start}, {start}
    for _ in range(depth):
        frontier = neighbours(schema, frontier, among) - reached
        if not frontier:
            break
        reached |= frontier
    return reached


def find_table(schema: Schema, among: Iterable[TableKey], name: str, home: str | None) -> TableKey:
    """The table `name` ("table" or "schema.table") names among the drawn ones."""
    keys = sorted(among)
    exact = [k for k in keys if name in (".".join(k), k[1])]
    if len(exact) > 1:
        exact = [k for k in exact if ".".join(k) == name or k[0] == home] or exact
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise ConfigError(
            f"--focus {name!r} is ambiguous: {', '.join('.'.join(k) for k in exact)}",
            "name it with its schema",
        )
    names = [label(k, home) for k in keys]
    close = difflib.get_close_matches(name, names, 3, 0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "see `inv db.erd` for the tables"
    raise ConfigError(f"--focus {name!r}: no such table or view", hint)


def picture(
    schema: Schema,
    asked: Sequence[str],
    home: str,
    *,
    rls_badges: bool,
    focus_on: str | None = None,
    depth: int = 1,
    changes: Changes | None = None,
) -> Picture:
    """What one command draws (see the module's docstring)."""
    schemas = schemas_to_draw(schema, asked)
    among = {k for k in schema.tables if k[0] in schemas}
    shown_home = home if home in schemas else (schemas[0] if len(schemas) == 1 else None)
    drawn = set(among)
    if changes is not None:
        touched = {k for k in changes.tables if k in among}
        drawn = touched | neighbours(schema, touched, among)
    if focus_on:
        start = find_table(schema, drawn, focus_on, shown_home)
        drawn = focus(schema, start, depth, drawn)
    return Picture(schema, tuple(sorted(drawn)), shown_home, rls_badges, changes)
