"""Markdown: the diagram in ```mermaid fences, with an index when it is split and the list
of changes for a diff. What `--inject` writes, and what a pull request's comment shows."""

from __future__ import annotations

from dbtasks.erd.layout import Layout


def page(layout: Layout) -> str:
    lines: list[str] = []
    picture = layout.picture
    if picture.changes is not None:
        changed = picture.changes.summary(dict.fromkeys(picture.drawn))
        lines += ["**Changes**", ""]
        lines += [f"- `{line}`" for line in changed] or ["- none"]
        lines.append("")
    if layout.split:
        lines += _index(layout)
    for chunk in layout.chunks:
        if layout.split:
            lines += [f'<a id="{chunk.anchor}"></a>', "", f"### {layout.title(chunk)}", ""]
        lines += ["```mermaid", layout.mermaid(chunk).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def _index(layout: Layout) -> list[str]:
    picture = layout.picture
    lines = [
        f"{len(picture.drawn)} tables in {len(layout.chunks)} diagrams. A table that one "
        "diagram references and another draws appears in the first as a stub naming the "
        "other.",
        "",
        "| diagram | tables |",
        "|---|---|",
    ]
    for chunk in layout.chunks:
        names = ", ".join(f"`{picture.name(k)}`" for k in chunk.tables)
        lines.append(f"| [{chunk.number}](#{chunk.anchor}) | {names} |")
    lines.append("")
    return lines


def mermaid_text(layout: Layout) -> str:
    """Mermaid alone: one `erDiagram` per chunk, a `%%` comment line naming each."""
    parts = []
    for chunk in layout.chunks:
        head = f"%% {layout.title(chunk)}\n" if layout.split else ""
        parts.append(head + layout.mermaid(chunk))
    return "\n".join(parts)
