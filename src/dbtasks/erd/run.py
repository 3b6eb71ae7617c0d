"""`db.erd` as one read: options in, a laid-out picture out, rendered in one format.

options → schema at REV (or A and B, compared) → what to draw → chunks → text
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from dbtasks.erd.layout import Layout
    from dbtasks.workflow import Work

FORMATS = ("mermaid", "markdown", "dot", "svg", "html", "json")
NEEDS_DOT = ("svg", "html")


@dataclass(frozen=True)
class Options:
    rev: str = "heads"
    diff: str = ""  # "A..B"
    schemas: tuple[str, ...] = ()
    focus: str = ""
    depth: int = 1
    format: str = "mermaid"
    live: bool = False
    allow_remote: bool = False

    @property
    def between(self) -> tuple[str, str] | None:
        """A diff's two revisions ("A..B"; "A.." is A to the heads)."""
        if not self.diff:
            return None
        before, dots, after = self.diff.partition("..")
        if not dots or not before.strip() or ".." in after:
            raise ConfigError(
                f"--diff {self.diff!r}: expected two revisions as A..B", "e.g. --diff -1..head"
            )
        return before.strip(), after.strip() or "heads"


def options(
    rev: str,
    diff: str,
    schemas: list[str],
    focus: str,
    depth: str,
    format: str,
    live: bool = False,
    allow_remote: bool = False,
) -> Options:
    """The flags, checked (bad input is exit 2 before anything connects)."""
    if format not in FORMATS:
        raise ConfigError(f"--format {format!r}: choose one of {', '.join(FORMATS)}")
    try:
        levels = int(depth)
    except ValueError:
        raise ConfigError(f"--depth {depth!r}: expected a number of foreign keys") from None
    if levels < 0:
        raise ConfigError(f"--depth {depth}: cannot be negative")
    if live and (diff or rev != "heads"):
        raise ConfigError("--live reads the database as it is: it takes no --rev or --diff")
    if diff and rev != "heads":
        raise ConfigError("--diff names both revisions: drop --rev")
    found = Options(rev, diff, tuple(schemas), focus, levels, format, live, allow_remote)
    found.between  # noqa: B018 - checks the form of --diff now
    return found


def draw(work: Work, chosen: Options) -> Layout:
    """The picture `chosen` asks for, laid out."""
    from dbtasks.erd import source
    from dbtasks.erd.diff import compare
    from dbtasks.erd.layout import lay_out
    from dbtasks.erd.select import picture

    settings = work.settings
    changes, since = None, None
    between, allow_remote = chosen.between, chosen.allow_remote
    if chosen.live:
        drawn = source.live(work)
    elif between is None:
        drawn = source.at_revision(work, chosen.rev, allow_remote)
    else:
        old = source.at_revision(work, between[0], allow_remote)
        drawn = source.at_revision(work, between[1], allow_remote)
        since = old.revisions
    schema = drawn.schema
    if between is not None:
        schema, changes = compare(old.schema, drawn.schema)
    shown = picture(
        schema,
        chosen.schemas,
        settings.schema,
        rls_badges=settings.baseline == "supabase",
        focus_on=chosen.focus or None,
        depth=chosen.depth,
        changes=changes,
    )
    return lay_out(shown, drawn.revisions, since)


def render(layout: Layout, format: str) -> str:
    """`layout` in `format` (svg and html run Graphviz's dot)."""
    from dbtasks.erd import markdown

    if format == "mermaid":
        return markdown.mermaid_text(layout)
    if format == "markdown":
        return markdown.page(layout)
    if format == "json":
        from dbtasks.erd.jsonout import document

        return document(layout)
    if format == "dot":
        from dbtasks.erd.dot import graph

        parts = [graph(layout.picture, c.tables, layout.where) for c in layout.chunks]
        return "\n".join(parts)
    from dbtasks.erd import svg

    if format == "svg":
        return svg.document(layout)
    from dbtasks.erd.html import page

    return page(layout, svg.chunks(layout))
