"""Revision files written the way `alembic revision` writes them, from plain data."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import indent
from typing import Any

_TEMPLATE = '''"""{message}

Revision ID: {id}
Revises: {revises}
Create Date: 2025-{month:02d}-{day:02d} 10:{minute:02d}:00.000000

"""

from collections.abc import Sequence

{imports}

# revision identifiers, used by Alembic.
revision: str = {id!r}
down_revision: str | Sequence[str] | None = {down!r}
branch_labels: str | Sequence[str] | None = {labels!r}
depends_on: str | Sequence[str] | None = {depends!r}


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

IMPORTS = "import sqlalchemy as sa\nfrom alembic import op"


def rev_id(history: str, n: int) -> str:
    """A 12-hex-digit id like Alembic's, stable for a given history and position."""
    return hashlib.sha256(f"{history}:{n}".encode()).hexdigest()[:12]


@dataclass
class Rev:
    """One revision: what it does, as Python source lines, and where it sits."""

    id: str
    message: str
    upgrade: list[str]
    downgrade: list[str]
    down: str | tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    depends_on: str | tuple[str, ...] | None = None
    imports: list[str] = field(default_factory=list)
    folder: str = ""  # a second version folder, when the project has one

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", self.message.lower()).strip("_")[:40]
        return f"{self.id}_{slug}.py"

    def render(self, n: int) -> str:
        down = self.down
        revises = ", ".join(down) if isinstance(down, tuple) else down or ""
        return _TEMPLATE.format(
            message=self.message,
            id=self.id,
            revises=revises,
            month=1 + n // 28 % 12,
            day=1 + n % 28,
            minute=n % 60,
            imports="\n".join([IMPORTS, *self.imports]),
            down=down,
            labels=self.labels,
            depends=self.depends_on,
            upgrade=_body(self.upgrade),
            downgrade=_body(self.downgrade),
        )


def _body(lines: list[str]) -> str:
    return indent("\n".join(lines) or "pass", "    ")


_PARENT = "parent"  # the default for `down`: the last revision added


class History:
    """Builds a history in order; each revision revises the last one unless told."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.revs: list[Rev] = []
        self.head: str | None = None

    def add(
        self,
        message: str,
        upgrade: list[str],
        downgrade: list[str],
        down: str | tuple[str, ...] | None = _PARENT,
        **extra: Any,
    ) -> Rev:
        parent = self.head if down == _PARENT else down
        rev = Rev(
            rev_id(self.name, len(self.revs) + 1), message, upgrade, downgrade, parent, **extra
        )
        self.revs.append(rev)
        self.head = rev.id
        return rev


def write(folder: Path, revs: list[Rev], second: Path | None = None) -> list[Path]:
    """Write each revision into `folder` (or `second`, for those that ask for it)."""
    paths = []
    for n, rev in enumerate(revs):
        where = second if rev.folder and second is not None else folder
        where.mkdir(parents=True, exist_ok=True)
        path = where / rev.filename
        path.write_text(rev.render(n))
        paths.append(path)
    return paths
