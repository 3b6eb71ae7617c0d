"""`inv db.erd`: draw the schema at a revision, or the change between two.

It runs in the read-only shape (`workflow.read`): the schema comes from a scratch database
the guard grants (a clone of the unseeded snapshot at the heads, else a new database
migrated to the revision), dropped afterwards; the developer's database is only read,
and only with `--live`. The `db` namespace is composed in `dbtasks.tasks.db`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invoke.context import Context

from dbtasks.tasks._boundary import command, task
from dbtasks.tasks._options import TARGET_HELP

if TYPE_CHECKING:
    from dbtasks.erd.layout import Layout
    from dbtasks.erd.run import Options
    from dbtasks.grants import FileGrant
    from dbtasks.tasks._boundary import Run

NAMESPACE = "db"
FORMATS = "mermaid, markdown, dot, svg, html, json"


@task(
    iterable=["schema"],
    auto_shortflags=False,  # one letter each would be arbitrary: --focus, --format, ...
    help={
        "rev": f"draw the schema at this revision (default: heads): {TARGET_HELP}",
        "diff": "draw what changed from revision A to B, given as A..B (A.. means A to the "
        "heads), with the changed tables' neighbours",
        "schema": "draw this schema (repeatable; default: every schema but Supabase's)",
        "focus": "draw only this table (TABLE or SCHEMA.TABLE) and its neighbours",
        "depth": "with --focus: how many foreign keys away to draw (default 1)",
        "format": f"one of {FORMATS} (default mermaid); svg and html need Graphviz's dot",
        "output": "write to this file inside the project instead of stdout",
        "inject": "write the diagram (as Markdown) between the markers of this Markdown file",
        "check": "with --inject: write nothing; exit 3 when the block is stale (for CI)",
        "live": "read the configured database as it is, instead of a scratch build",
        "allow_remote": "build the scratch database on a server not on this machine (never "
        "production or hosted Supabase)",
    },
)
def erd(
    c: Context,
    rev: str = "heads",
    diff: str = "",
    schema: list[str] | None = None,
    focus: str = "",
    depth: str = "1",
    format: str = "",
    output: str = "",
    inject: str = "",
    check: bool = False,
    live: bool = False,
    allow_remote: bool = False,
) -> None:
    """Draw the schema at a revision (or a diff of two) as Mermaid, DOT, SVG, HTML or JSON."""
    from dbtasks.erd import run as erd_run
    from dbtasks.errors import ConfigError

    with command() as run:
        if check and not inject:
            raise ConfigError("--check compares an --inject block: name the file")
        if inject and (output or format not in ("", "mermaid", "markdown")):
            raise ConfigError("--inject writes Markdown: it takes no --output or --format")
        chosen = erd_run.options(
            rev, diff, schema or [], focus, depth, format or "mermaid", live, allow_remote
        )
        if chosen.format in erd_run.NEEDS_DOT:
            from dbtasks.erd.svg import find_dot

            find_dot()  # before any database work: a missing dot is bad input
        layout = _draw(run, chosen)
        if inject:
            _inject(run, layout, Path(inject), check)
            return
        text = erd_run.render(layout, chosen.format)
        if output:
            _write(run, Path(output), text)
            return
        run.console.out.write(text)
        run.console.out.flush()


def _draw(run: Run, chosen: Options) -> Layout:
    """The picture, read; what building it says (a snapshot's progress) goes to stderr:
    stdout is the diagram's."""
    from dbtasks.console import Console
    from dbtasks.erd.run import draw
    from dbtasks.workflow import read

    aside = Console(out=run.console.err, err=run.console.err, secrets=run.console.secrets)
    settings = run.settings  # loaded first: the console's secrets come with it
    aside.secrets = run.console.secrets
    return read(lambda work: draw(work, chosen), settings, aside, needs_database=chosen.live)


def _files(run: Run) -> FileGrant:
    from dbtasks import guard

    return guard.files(
        (run.settings.project_root,),
        "write the diagram",
        "write inside the project, or print to stdout and redirect",
    )


def _inject(run: Run, layout: Layout, path: Path, check: bool) -> None:
    from dbtasks.erd.markdown import page
    from dbtasks.erd.output import inject

    if inject(path, page(layout), _files(run), check):
        run.console.ok(f"wrote the diagram into {path} ({_count(layout)})")
    else:
        run.console.ok(f"{path} is up to date ({_count(layout)})")


def _write(run: Run, path: Path, text: str) -> None:
    from dbtasks.erd.output import write

    write(path, text, _files(run))
    run.console.ok(f"wrote {path} ({_count(layout_of=text)})")


def _count(layout: Layout | None = None, layout_of: str = "") -> str:
    if layout is None:
        return f"{len(layout_of.encode())} bytes"
    tables = len(layout.picture.drawn)
    chunks = f" in {len(layout.chunks)} diagrams" if layout.split else ""
    return f"{tables} table{'s' if tables != 1 else ''}{chunks}"
