"""The checks that need no scratch database: graph, database, checksums, transactions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks.validate import Finding, fail

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.settings import Settings


def graph(ws: Workspace, settings: Settings) -> list[Finding]:
    """One head (or the configured number). Missing parents, one id in two files and
    cycles already stopped the history from loading: the caller reports those."""
    heads = ws.graph.heads
    if len(heads) == settings.heads:
        return []
    files = ", ".join(ws.relpath(ws.graph.get(h).path) for h in heads)
    return [
        fail(
            f"{len(heads)} heads ({', '.join(heads)}) where {settings.heads} expected: "
            f"{files}; merge them with `inv db.merge`"
        )
    ]


def database(ws: Workspace, current: tuple[str, ...]) -> list[Finding]:
    """The database's revisions exist in the revision files."""
    return [
        fail(f"the database is at {rev}, which no revision file defines", revision=rev)
        for rev in ws.graph.unknown(current)
    ]


def checksums(ws: Workspace, entries: list[Any], current: tuple[str, ...]) -> list[Finding]:
    """Applied revisions whose file changed after dbtasks applied it."""
    from dbtasks.migrations.journal import edited

    return [
        fail(
            f"edited after it was applied ({entry.started_at:%Y-%m-%d %H:%M} by "
            f"{entry.applied_by}): the databases it already ran on will never see the "
            "change; put the change in a new revision",
            entry.revision,
            ws.relpath(ws.graph.get(entry.revision).path),
        )
        for entry in edited(ws.graph, entries, current)
    ]


def transactions(ws: Workspace) -> list[Finding]:
    """`autocommit_block()` commits the transaction around it: safe only when each revision
    runs in its own. dbtasks always runs them so; a plain `alembic upgrade` with an env.py
    that does not set transaction_per_migration=True commits the revisions before it too."""
    from dbtasks.reads.adopt import ENV_RUNTIME, classify_env

    env = ws.script_dir / "env.py"
    env_text = env.read_text(encoding="utf-8") if env.is_file() else ""
    per_revision = "transaction_per_migration=True" in env_text.replace(" ", "")
    if classify_env(ws.script_dir) == ENV_RUNTIME or per_revision:
        return []
    return [
        fail(
            "uses autocommit_block() but env.py does not run each revision in its own "
            "transaction: set transaction_per_migration=True in context.configure()",
            revision.id,
            ws.relpath(revision.path),
        )
        for revision in ws.graph.walk()
        if "autocommit_block" in Path(revision.path).read_text(encoding="utf-8")
    ]
