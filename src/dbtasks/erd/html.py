"""A self-contained HTML page: each chunk's diagram (inline SVG from dot) and a card per
table with everything read (defaults, keys, indexes, checks, comments, row-level
security). No script, font or style comes from anywhere: it opens offline, as a CI
artifact, for as long as it is kept."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from dbtasks.erd import marks
from dbtasks.erd.dot import anchor
from dbtasks.erd.layout import Layout
from dbtasks.erd.mermaid import spelled
from dbtasks.erd.model import Table
from dbtasks.erd.select import Picture

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1400px; padding: 1rem 2rem; color: #1f2933; }
h1 { margin-bottom: .2rem; } .meta { color: #52606d; margin-top: 0; }
.diagram { overflow: auto; border: 1px solid #d9e2ec; border-radius: 6px; margin: 1rem 0; }
.diagram svg { display: block; max-width: none; height: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));
         gap: 1rem; }
.card { border: 1px solid #cbd2d9; border-radius: 6px; padding: .5rem .8rem; }
.card h3 { margin: .2rem 0 .4rem; font-size: 1rem; }
.badge { font-size: .75rem; font-weight: normal; background: #e4e7eb; border-radius: 4px;
         padding: .05rem .35rem; margin-left: .3rem; }
table.columns { border-collapse: collapse; width: 100%; font-size: .85rem; }
table.columns th, table.columns td { text-align: left; padding: .1rem .3rem;
         border-bottom: 1px solid #eef1f4; vertical-align: top; }
table.columns td:nth-child(-n+3) { white-space: nowrap; }
code { font-size: .8rem; } ul { margin: .3rem 0; padding-left: 1.2rem; }
.added { background: #e9f7ec; } .dropped { background: #fdecec; }
.dropped td:first-child { text-decoration: line-through; } .changed { background: #fff6dc; }
.changes li { font-family: ui-monospace, monospace; font-size: .85rem; }
"""


def _badges(picture: Picture, table: Table) -> str:
    return "".join(
        f'<span class="badge">{escape(b)}</span>' for b in marks.badges(picture, table.key)
    )


def _columns(picture: Picture, table: Table) -> list[str]:
    rows = [
        '<table class="columns"><tr><th>column</th><th>type</th><th>null</th>'
        "<th>default</th><th>keys</th><th>notes</th></tr>"
    ]
    for column in table.columns:
        mark = picture.changes.column(table.key, column.name) if picture.changes else None
        cells = (
            column.name,
            spelled(column.type),
            "null" if column.nullable else "",
            column.default or "",
            " ".join(table.keys_of(column.name)),
            "; ".join(marks.column_notes(picture, table.key, column)),
        )
        kind = f' class="{mark}"' if mark else ""
        rows.append(f"<tr{kind}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    rows.append("</table>")
    return rows


def _references(picture: Picture, table: Table) -> list[str]:
    if not table.foreign_keys:
        return []
    items = []
    for fk in table.foreign_keys:
        target = picture.name(fk.target)
        link = (
            f'<a href="#{anchor(fk.target)}">{escape(target)}</a>'
            if fk.target in picture.drawn
            else escape(target)
        )
        label = escape(marks.fk_label(picture, table, fk.name))
        items.append(f"<li>{label} → {link} ({escape(', '.join(fk.target_columns))})</li>")
    return ["<ul>", *items, "</ul>"]


def _details(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    body = "".join(f"<li><code>{escape(i)}</code></li>" for i in items)
    return [f"<details><summary>{escape(title)} ({len(items)})</summary><ul>{body}</ul></details>"]


def card(picture: Picture, table: Table) -> str:
    mark = picture.changes.table(table.key) if picture.changes else None
    kind = f"card {mark}" if mark else "card"
    parts = [
        f'<article class="{kind}" id="{anchor(table.key)}">',
        f"<h3>{escape(picture.name(table.key))}{_badges(picture, table)}</h3>",
    ]
    if table.comment:
        parts.append(f"<p>{escape(table.comment)}</p>")
    parts += _columns(picture, table)
    parts += _references(picture, table)
    parts += _details("indexes", [i.definition for i in table.indexes])
    parts += _details("checks", list(table.checks))
    parts += _details("definition", [table.definition] if table.definition else [])
    if picture.changes:
        parts += _details("changed", list(picture.changes.notes.get(table.key, ())))
    parts.append("</article>")
    return "\n".join(parts)


def _heading(layout: Layout) -> list[str]:
    picture = layout.picture
    schemas = sorted({k[0] for k in picture.drawn})
    at = ", ".join(layout.revisions) or "base"
    meta = f"{len(picture.drawn)} tables · {', '.join(schemas) or 'no schema'} · at {at}"
    if layout.since is not None:
        meta = f"changes from {', '.join(layout.since) or 'base'} to {at} · {meta}"
    lines = ["<h1>Schema</h1>", f'<p class="meta">{escape(meta)}</p>']
    if picture.changes is not None:
        summary = picture.changes.summary(dict.fromkeys(picture.drawn)) or ["none"]
        lines.append('<ul class="changes">')
        lines += [f"<li>{escape(line)}</li>" for line in summary]
        lines.append("</ul>")
    if layout.split:
        lines.append("<nav><ol>")
        for chunk in layout.chunks:
            title = escape(layout.title(chunk))
            lines.append(f'<li><a href="#{chunk.anchor}">{title}</a></li>')
        lines.append("</ol></nav>")
    return lines


def page(layout: Layout, diagrams: Sequence[str]) -> str:
    """The page; `diagrams` are the chunks' SVG elements, in order."""
    picture = layout.picture
    body = _heading(layout)
    for chunk, diagram in zip(layout.chunks, diagrams, strict=True):
        body.append(f'<section id="{chunk.anchor}">')
        if layout.split:
            body.append(f"<h2>{escape(layout.title(chunk))}</h2>")
        body.append(f'<div class="diagram">{diagram}</div>')
        body.append('<div class="cards">')
        body += [card(picture, t) for t in picture.tables(chunk.tables)]
        body += ["</div>", "</section>"]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="generator" content="dbtasks db.erd">\n<title>Schema</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
