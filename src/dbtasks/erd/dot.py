"""Graphviz DOT: each table a node with an HTML-like label (a row per column, ports on
the columns), each foreign key an edge between the columns it joins, with crow's feet.

Diff marks are colours (green added, red dropped, amber changed) and words, so that the
picture reads in grey too. Node ids are the tables' qualified names: stable however the
schema grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dbtasks.erd import marks
from dbtasks.erd.mermaid import spelled
from dbtasks.erd.model import Column, Table, TableKey
from dbtasks.erd.select import Picture

FONT = "Helvetica,Arial,sans-serif"
COLOURS = {  # header, row
    None: ("#dbe4f0", "#ffffff"),
    "added": ("#b7e4c0", "#e9f7ec"),
    "dropped": ("#f4b9b9", "#fdecec"),
    "changed": ("#f9dd8f", "#fff6dc"),
    "stub": ("#e4e4e4", "#f6f6f6"),
    "view": ("#e6dcf2", "#ffffff"),
}
EDGE_COLOURS = {"added": "#2e8540", "dropped": "#c0392b", "changed": "#b7791f"}


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_id(key: TableKey) -> str:
    return quoted(".".join(key))


def anchor(key: TableKey) -> str:
    """The id of a table's card in the HTML page (and where the SVG links to)."""
    import hashlib
    import re

    plain = ".".join(key)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", plain)
    if safe != plain:
        safe += "-" + hashlib.sha256(plain.encode()).hexdigest()[:8]
    return f"t-{safe}"


def _cell(text: str, *, port: str | None = None, bg: str | None = None, span: int = 1) -> str:
    attrs = ' ALIGN="LEFT" BALIGN="LEFT"'
    if port:
        attrs += f' PORT="{port}"'
    if bg:
        attrs += f' BGCOLOR="{bg}"'
    if span > 1:
        attrs += f' COLSPAN="{span}"'
    return f"<TD{attrs}>{text or ' '}</TD>"


def _references(picture: Picture, table: Table, column: str) -> list[str]:
    """What a foreign key's first column references, with its action: "→ profiles,
    cascade" (on the row, not the edge: Graphviz drops edge labels when it packs)."""
    said = []
    for fk in table.foreign_keys:
        if fk.columns[0] == column:
            action = "" if fk.on_delete == "no action" else f", {fk.on_delete}"
            mark = picture.changes.foreign_key(table.key, fk.name) if picture.changes else None
            said.append(f"→ {picture.name(fk.target)}{action}" + (f" ({mark})" if mark else ""))
    return said


def _row(picture: Picture, table: Table, index: int, column: Column, row_bg: str) -> str:
    mark = picture.changes.column(table.key, column.name) if picture.changes else None
    bg = COLOURS[mark][1] if mark else row_bg
    name = escape(column.name)
    if mark == "dropped":
        name = f"<S>{name}</S>"
    kind = escape(spelled(column.type))
    if column.nullable:
        kind += ' <FONT COLOR="#7b8794" POINT-SIZE="8">null</FONT>'
    # Enum values and domains are in the chunk's legend of types; the comment in the page.
    skip = {column.comment, marks.type_detail(picture.schema, column)}
    notes = _references(picture, table, column.name)
    notes += [n for n in marks.column_notes(picture, table.key, column) if n not in skip]
    said = f'<FONT POINT-SIZE="8">{escape(marks.shorten("; ".join(notes), 60))}</FONT>'
    keys = escape(" ".join(table.keys_of(column.name)))
    return (
        "<TR>"
        + _cell(keys, port=f"i{index}", bg=bg)
        + _cell(f"<B>{name}</B>" if column.name in table.primary_key else name, bg=bg)
        + _cell(kind, bg=bg)
        + _cell(said if notes else "", port=f"o{index}", bg=bg)
        + "</TR>"
    )


def _label(picture: Picture, key: TableKey) -> str:
    table = picture.schema.tables[key]
    mark = picture.changes.table(key) if picture.changes else None
    header, row_bg = COLOURS[mark or ("view" if table.is_view else None)]
    found = marks.badges(picture, key)
    rows = [
        "<TR>"
        + _cell(f"<B>{escape(picture.name(key))}</B>", bg=header, span=4, port="title")
        + "</TR>"
    ]
    if found:
        text = f'<FONT POINT-SIZE="8">{escape(" · ".join(found))}</FONT>'
        rows.append(f"<TR>{_cell(text, bg=header, span=4)}</TR>")
    rows += [_row(picture, table, i, c, row_bg) for i, c in enumerate(table.columns)]
    return _table(rows)


def _table(rows: Sequence[str]) -> str:
    return (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" COLOR="#7a869a">'
        + "".join(rows)
        + "</TABLE>>"
    )


def _stub(picture: Picture, key: TableKey, columns: Sequence[str], note: str) -> str:
    table = picture.schema.tables.get(key) or Table(*key)
    header, row_bg = COLOURS["stub"]
    title = f"<B>{escape(picture.name(key))}</B>"
    rows = [f"<TR>{_cell(title, port='title', bg=header, span=3)}</TR>"]
    rows.append(f"<TR>{_cell(f'<I>{escape(note)}</I>', bg=header, span=3)}</TR>")
    for name in columns:
        index = next((i for i, c in enumerate(table.columns) if c.name == name), None)
        found = table.column(name)
        rows.append(
            "<TR>"
            + _cell(escape(" ".join(table.keys_of(name))), port=_in(index), bg=row_bg)
            + _cell(escape(name), bg=row_bg)
            + _cell(escape(spelled(found.type) if found else ""), bg=row_bg)
            + "</TR>"
        )
    return _table(rows)


def _in(index: int | None) -> str | None:
    return None if index is None else f"i{index}"


def _port(table: Table | None, column: str, side: str) -> str:
    """The port of `column`'s row ("title" when the table or column is unknown)."""
    columns = table.columns if table else ()
    index = next((i for i, c in enumerate(columns) if c.name == column), None)
    return "title" if index is None else f"{side}{index}"


def _edges(picture: Picture, key: TableKey) -> list[str]:
    table = picture.schema.tables[key]
    lines = []
    for fk in table.foreign_keys:
        unique = set(fk.columns) == set(table.primary_key) or tuple(fk.columns) in table.uniques
        optional = any(c.nullable for c in table.columns if c.name in fk.columns)
        mark = picture.changes.foreign_key(key, fk.name) if picture.changes else None
        colour = EDGE_COLOURS.get(mark or "", "#5b6577")
        attrs = [
            f"arrowtail={'teeodot' if unique else 'crowodot'}",
            f"arrowhead={'teeodot' if optional else 'teetee'}",
            f'color="{colour}"',
            f"tooltip={quoted(marks.fk_label(picture, table, fk.name))}",
        ]
        if mark == "dropped":
            attrs.append("style=dashed")
        target = picture.schema.tables.get(fk.target)
        start = f"{node_id(key)}:{_port(table, fk.columns[0], 'o')}:e"
        end = f"{node_id(fk.target)}:{_port(target, fk.target_columns[0], 'i')}:w"
        lines.append(f"  {start} -> {end} [{', '.join(attrs)}];")
    return lines


def _types(picture: Picture, keys: Sequence[TableKey]) -> list[str]:
    """A legend of the enum and domain types the tables use, with their values."""
    used = sorted(
        {c.udt for k in keys for c in picture.schema.tables[k].columns if c.udt is not None}
    )
    rows = []
    for udt in used:
        column = Column("", ".".join(udt), udt=udt, udt_kind=_kind(picture, udt))
        detail = marks.type_detail(picture.schema, column)
        if detail:
            name = f"<B>{escape(picture.name(udt))}</B>"
            rows.append(f"<TR>{_cell(name)}{_cell(escape(marks.shorten(detail, 90)))}</TR>")
    if not rows:
        return []
    head = "<TR>" + _cell("<B>types</B>", bg=COLOURS["stub"][0], span=2) + "</TR>"
    return [f'  "erd types" [label={_table([head, *rows])}];']


def _kind(picture: Picture, udt: TableKey) -> str:
    if udt in picture.schema.enums:
        return "enum"
    return "domain" if udt in picture.schema.domains else "base"


def graph(
    picture: Picture, keys: Sequence[TableKey], where: dict[TableKey, int], title: str = "erd"
) -> str:
    """One digraph of the tables `keys`, with stubs for what they reference elsewhere."""
    lines = [
        f"digraph {quoted(title)} {{",
        # Unrelated clusters side by side, not in one tall column.
        f'  graph [rankdir=LR, nodesep=0.35, ranksep=1.0, pad=0.3, fontname="{FONT}", '
        'fontsize=11, bgcolor="white", pack=true, packmode="array"];',
        f'  node [shape=plain, fontname="{FONT}", fontsize=10];',
        f'  edge [dir=both, fontname="{FONT}", fontsize=8, fontcolor="#5b6577"];',
    ]
    for key in keys:
        lines.append(f'  {node_id(key)} [label={_label(picture, key)}, URL="#{anchor(key)}"];')
    for key, columns in picture.stubs(keys).items():
        label = _stub(picture, key, columns, marks.stub_note(key, where))
        lines.append(f"  {node_id(key)} [label={label}];")
    lines += _types(picture, keys)
    for key in keys:
        lines += _edges(picture, key)
    lines.append("}")
    return "\n".join(lines) + "\n"
