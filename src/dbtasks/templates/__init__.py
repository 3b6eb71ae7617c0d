"""Revision templates: the safe default and the common patterns, as Mako files.

`inv db.init --template NAME|PATH` renders the first migration with one; `inv db.revision
--template NAME|PATH` writes a revision from one to fill in (the constants at its top).
Light on purpose: `inv --list` reads the names from this folder, nothing else.
"""

from __future__ import annotations

from pathlib import Path

from dbtasks.errors import ConfigError

FOLDER = Path(__file__).parent
# Files starting with "_" are dbtasks' own (the squash baseline), not for revisions.
NAMES = tuple(sorted(p.stem for p in FOLDER.glob("*.mako") if not p.name.startswith("_")))
TEMPLATES_HELP = f"one of {', '.join(NAMES)}, or the path of a .mako file (docs/squash.md)"


def resolve(name: str, root: Path) -> Path:
    """The template `name` stands for: a built-in one, or a .mako file (relative to the
    project); anything else is bad input."""
    if name in NAMES:
        return FOLDER / f"{name}.mako"
    path = Path(name) if Path(name).is_absolute() else root / name
    if path.suffix == ".mako" and path.is_file():
        return path
    raise ConfigError(
        f"there is no revision template {name!r}",
        f"choose one of {', '.join(NAMES)} or a .mako file",
    )
