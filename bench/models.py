"""SQLAlchemy models that match a synthetic history at its head, exactly.

`bench/history.py` writes migrations only; checking models against migrations (drift,
pytest-alembic's model test) needs models too. They are derived from the same positions
as the revisions, so autogenerate finds nothing to write at head: every `tNNNNN` table
with its `note` column and `ix_tNNNNN_name` index once the cycle's revisions for them
exist, and every `sNNNNN` table with its named enum and server default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.history import KINDS, Expected, History, kind, table_name

MODULE = "bench_head_models"  # the file `<MODULE>.py` in the project's root
METADATA = f"{MODULE}:metadata"  # what DB_METADATA names

_HEADER = '''"""Models at the head of the synthetic history (written by bench/models.py)."""

import sqlalchemy as sa

metadata = sa.MetaData()
'''


@dataclass(frozen=True)
class Cycle:
    """What one five-revision cycle has built by the head of a history."""

    table: str
    index: bool
    note: bool
    enum_table: str | None


def cycles(history: History) -> list[Cycle]:
    """Every cycle the history starts, with the parts of it that exist at head."""
    found: list[Cycle] = []
    for start in range(1, history.count + 1, len(KINDS)):
        last = min(start + len(KINDS) - 1, history.count)
        built = {kind(p): p for p in range(start, last + 1)}
        enum_at = built.get("enum")
        found.append(
            Cycle(
                table=table_name(start),
                index="index" in built,
                note="column" in built,
                enum_table=None if enum_at is None else f"s{enum_at:05d}",
            )
        )
    return found


def _table(cycle: Cycle) -> list[str]:
    lines = [
        "sa.Table(",
        f"    {cycle.table!r},",
        "    metadata,",
        '    sa.Column("id", sa.Integer(), primary_key=True),',
        '    sa.Column("name", sa.String(100), nullable=False),',
        '    sa.Column("created_at", sa.DateTime(timezone=True),'
        " server_default=sa.func.now(), nullable=False),",
    ]
    if cycle.note:
        lines.append('    sa.Column("note", sa.Text(), nullable=True),')
    if cycle.index:
        lines.append(f'    sa.Index({f"ix_{cycle.table}_name"!r}, "name"),')
    return [*lines, ")"]


def _enum_table(name: str) -> list[str]:
    enum = f"state_{name[1:]}"
    return [
        "sa.Table(",
        f"    {name!r},",
        "    metadata,",
        '    sa.Column("id", sa.Integer(), primary_key=True),',
        f'    sa.Column("state", sa.Enum("draft", "active", "archived", name={enum!r}),'
        ' server_default="draft", nullable=False),',
        ")",
    ]


def render_models(history: History) -> str:
    """The source of a module whose `metadata` is the schema at the history's head."""
    blocks: list[list[str]] = []
    for cycle in cycles(history):
        blocks.append(_table(cycle))
        if cycle.enum_table is not None:
            blocks.append(_enum_table(cycle.enum_table))
    body = "\n\n".join("\n".join(block) for block in blocks)
    return f"{_HEADER}\n\n{body}\n"


def require_models_match(source: str, history: History) -> None:
    """The models hold exactly the tables, enums, indexes and `note` columns the history
    builds (`History.expected`, counted from the revisions, not from these models)."""
    from sqlalchemy import Enum, MetaData

    from bench.checks import CheckFailed

    namespace: dict[str, Any] = {}
    exec(compile(source, f"{MODULE}.py", "exec"), namespace)  # noqa: S102 - our own output
    metadata: MetaData = namespace["metadata"]
    tables = list(metadata.tables.values())
    columns = [c for t in tables for c in t.columns]
    have = Expected(
        tables=len(tables),
        enums=len({c.type.name for c in columns if isinstance(c.type, Enum)}),
        indexes=sum(len(t.indexes) for t in tables),
        columns=sum(1 for c in columns if c.name == "note"),
    )
    if have != history.expected:
        raise CheckFailed(
            f"the generated models hold {have}, the history's head {history.expected}"
        )
