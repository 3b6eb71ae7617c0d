"""Synthetic Alembic histories: N linear revisions of the operations real projects run.

Revisions come in cycles of five: create a table, index it, add a column to it, create a
table with a new enum type, then change data in the first table. Everything is derived
from the revision's position, so the same N always writes the same files, and the objects
a database at head must hold are known exactly (`Expected`), which is what the benchmarks
check after every timed run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

KINDS = ("table", "index", "column", "enum", "data")
# Rows the data revisions insert: the reset benchmark dirties tables with other names.
DATA_ROWS = ("alpha", "beta")
# An index on a table an earlier revision made is what `db.validate`'s lint fails
# (CREATE INDEX without CONCURRENTLY blocks writes); the index revisions acknowledge it,
# as a project whose tables are small would, so the validate case times a passing run.
ALLOWED_RULE = "require-concurrent-index-creation"
ALLOWED = f"dbtasks_allow = {{{ALLOWED_RULE!r}: 'a benchmark table: small, and nobody writes'}}"


@dataclass(frozen=True)
class Expected:
    """What schema `app` holds at head, besides the version table."""

    tables: int
    enums: int
    indexes: int
    columns: int


@dataclass(frozen=True)
class History:
    count: int
    ids: tuple[str, ...]

    @property
    def head(self) -> str:
        return self.ids[-1]

    @property
    def first_table(self) -> str:
        return table_name(1)

    @property
    def expected(self) -> Expected:
        kinds = [kind(i) for i in range(1, self.count + 1)]
        return Expected(
            tables=kinds.count("table") + kinds.count("enum"),
            enums=kinds.count("enum"),
            indexes=kinds.count("index"),
            columns=kinds.count("column"),
        )


def revision_id(position: int) -> str:
    return hashlib.blake2b(f"dbtasks-bench-{position}".encode(), digest_size=6).hexdigest()


def kind(position: int) -> str:
    return KINDS[(position - 1) % len(KINDS)]


def table_name(position: int) -> str:
    """The table of the cycle `position` belongs to: the one its first revision creates."""
    start = position - (position - 1) % len(KINDS)
    return f"t{start:05d}"


def _bodies(position: int) -> tuple[list[str], list[str]]:
    """(upgrade, downgrade) statements of the revision at `position`."""
    table = table_name(position)
    which = kind(position)
    if which == "table":
        return [
            "op.create_table(",
            f"    {table!r},",
            '    sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("name", sa.String(100), nullable=False),',
            '    sa.Column("created_at", sa.DateTime(timezone=True),'
            " server_default=sa.func.now(), nullable=False),",
            ")",
        ], [f"op.drop_table({table!r})"]
    if which == "index":
        index = f"ix_{table}_name"
        return [f'op.create_index({index!r}, {table!r}, ["name"])'], [
            f"op.drop_index({index!r}, table_name={table!r})"
        ]
    if which == "column":
        return [f'op.add_column({table!r}, sa.Column("note", sa.Text(), nullable=True))'], [
            f'op.drop_column({table!r}, "note")'
        ]
    if which == "enum":
        other, enum = f"s{position:05d}", f"state_{position:05d}"
        return [
            "op.create_table(",
            f"    {other!r},",
            '    sa.Column("id", sa.Integer(), primary_key=True),',
            f'    sa.Column("state", sa.Enum("draft", "active", "archived", name={enum!r}),'
            ' server_default="draft", nullable=False),',
            ")",
        ], [f"op.drop_table({other!r})", f'op.execute("DROP TYPE {enum}")']
    values = ", ".join(f"('{name}')" for name in DATA_ROWS)
    names = ", ".join(f"'{name}'" for name in DATA_ROWS)
    return [
        f'op.execute("INSERT INTO {table} (name) VALUES {values}")',
        f'op.execute("UPDATE {table} SET note = upper(name) WHERE note IS NULL")',
    ], [f'op.execute("DELETE FROM {table} WHERE name IN ({names})")']


def render(position: int, down: str | None) -> str:
    """The source of one revision file, shaped like the repository's script.py.mako."""
    rev = revision_id(position)
    upgrade, downgrade = _bodies(position)
    return "\n".join(
        [
            f'"""{kind(position)} step {position}',
            "",
            f"Revision ID: {rev}",
            f"Revises: {down or ''}",
            f"Create Date: 2026-01-01 00:{position // 60 % 60:02d}:{position % 60:02d}",
            "",
            '"""',
            "",
            "import sqlalchemy as sa",
            "from alembic import op",
            "",
            f"revision = {rev!r}",
            f"down_revision = {down!r}",
            "branch_labels = None",
            "depends_on = None",
            *([ALLOWED] if kind(position) == "index" else []),
            "",
            "",
            "def upgrade() -> None:",
            *(f"    {line}" for line in upgrade),
            "",
            "",
            "def downgrade() -> None:",
            *(f"    {line}" for line in downgrade),
            "",
        ]
    )


def write_history(versions: Path, count: int) -> History:
    """Write `count` linear revisions into `versions` (which must hold none yet)."""
    if count < 1:
        raise ValueError("a history needs at least one revision")
    versions.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    for position in range(1, count + 1):
        down = ids[-1] if ids else None
        ids.append(revision_id(position))
        path = versions / f"{position:05d}_{ids[-1]}_{kind(position)}.py"
        path.write_text(render(position, down), encoding="utf-8")
    return History(count, tuple(ids))
