"""Where the project's Alembic configuration lives, found the way Alembic finds it: the ini
file (`DB_ALEMBIC_CONFIG`, else Alembic's own `ALEMBIC_CONFIG`, else `alembic.ini`) and the
`[tool.alembic]` table of pyproject.toml (Alembic 1.16+), either or both. Plain files only:
the fast paths (status, a no-op upgrade) read this without importing Alembic.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from dbtasks.settings import Settings


@dataclass(frozen=True)
class AlembicFiles:
    ini: Path | None
    toml: Path | None  # pyproject.toml, when it holds [tool.alembic]

    def digest_input(self) -> bytes:
        """The bytes a cache of what they configure depends on."""
        return b"\0".join(p.read_bytes() if p else b"" for p in (self.ini, self.toml))


def find(settings: Settings) -> AlembicFiles | None:
    """The configuration files, or None when the project has no Alembic configuration."""
    ini = settings.alembic_config
    toml = settings.project_root / "pyproject.toml"
    found = AlembicFiles(ini if ini.is_file() else None, toml if _has_table(toml) else None)
    return found if found.ini or found.toml else None


def required(settings: Settings) -> AlembicFiles:
    found = find(settings)
    if found is None:
        raise ConfigError(
            f"no Alembic configuration in {settings.project_root}: neither "
            f"{settings.alembic_config.name} nor [tool.alembic] in pyproject.toml",
            "see docs/adopting.md to set up Alembic for dbtasks",
        )
    return found


def _has_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return "alembic" in data.get("tool", {})
