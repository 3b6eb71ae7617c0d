"""What every format says about a table or a column beyond its name and type: row-level
security, a view's kind, a diff's marks, enum values and domains, identity and generated
columns, and where a stub's table is drawn. One wording, shared by all formats."""

from __future__ import annotations

from dbtasks.erd.model import Column, Schema, Table, TableKey
from dbtasks.erd.select import Picture
from dbtasks.supabase import MANAGED_SCHEMAS

MAX_LABELS = 6  # enum values listed before "…"


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def rls(table: Table, always: bool) -> str | None:
    """ "RLS on, 1 policy", "RLS off"; None for a plain project's table without either."""
    if table.is_view:
        return None
    policies = (
        f", {plural(table.policies, 'policy', 'policies')}" if table.rls or table.policies else ""
    )
    if table.rls:
        return f"RLS {'forced' if table.rls_forced else 'on'}{policies}"
    if always or table.policies:
        return f"RLS off{policies}"
    return None


def badges(picture: Picture, key: TableKey) -> list[str]:
    """A table's marks, in the order every format prints them."""
    table = picture.schema.tables[key]
    found = []
    mark = picture.changes.table(key) if picture.changes else None
    if mark:
        found.append(mark)
    if table.kind != "table":
        found.append(table.kind)
    said = rls(table, picture.rls_badges)
    if said:
        found.append(said)
    return found


def type_detail(schema: Schema, column: Column) -> str | None:
    """Enum values, or a domain's base type and checks."""
    if column.udt is None:
        return None
    if column.udt_kind == "enum" and column.udt in schema.enums:
        labels = schema.enums[column.udt].labels
        shown = ", ".join(labels[:MAX_LABELS]) + (", …" if len(labels) > MAX_LABELS else "")
        return f"enum: {shown}"
    if column.udt_kind == "domain" and column.udt in schema.domains:
        domain = schema.domains[column.udt]
        checks = f" {' '.join(domain.checks)}" if domain.checks else ""
        return f"domain over {domain.base}{checks}"
    return column.udt_kind if column.udt_kind != "base" else None


def column_notes(picture: Picture, key: TableKey, column: Column) -> list[str]:
    """What a column is beyond its type (its comment last)."""
    notes = []
    detail = type_detail(picture.schema, column)
    if detail:
        notes.append(detail)
    if column.identity:
        notes.append(f"identity {column.identity}")
    if column.generated:
        notes.append(f"generated: {column.generated}")
    if picture.changes:
        mark = picture.changes.column(key, column.name)
        if mark:
            said = picture.changes.notes.get((*key, column.name), ())
            notes.append(f"{mark}: {'; '.join(said)}" if said else mark)
    if column.comment:
        notes.append(column.comment)
    return notes


def stub_note(key: TableKey, where: dict[TableKey, int]) -> str:
    """Why a referenced table is drawn as a stub."""
    if key[0] in MANAGED_SCHEMAS:
        return "managed by Supabase"
    if key in where:
        return f"drawn in chunk {where[key]}"
    return "not drawn here"


def fk_label(picture: Picture, table: Table, fk_name: str) -> str:
    fk = next(f for f in table.foreign_keys if f.name == fk_name)
    text = ", ".join(fk.columns)
    if fk.on_delete != "no action":
        text += f", on delete {fk.on_delete}"
    mark = picture.changes.foreign_key(table.key, fk.name) if picture.changes else None
    return f"{text} ({mark})" if mark else text


def shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
