"""The project's own code that dbtasks loads by name: the models (`DB_METADATA`) and the
seed callable (`DB_SEED_CALLABLE`), both "package.module:attr.path".

One loader: the project root (and its `src/`, for a src layout) is importable, and any
error, the project's code being the project's, is one line naming the file and line of the
project where it happened.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from dbtasks.errors import ConfigError


def importable(root: Path) -> None:
    """Put the project root, and `src/` when it has one, on sys.path (once each)."""
    for folder in (root / "src", root):
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def load(spec: str, setting: str, root: Path, hint: str) -> Any:
    """The object `spec` names; a malformed spec or a failing import is bad input."""
    module_name, colon, attr_path = spec.partition(":")
    if not colon or not module_name or not attr_path:
        raise ConfigError(
            f"{setting}={spec!r} must look like 'package.module:attr'",
            f'set it in [tool.dbtasks] as {setting.removeprefix("DB_").lower()} = "..."',
        )
    importable(root)
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            target = getattr(target, part)
    except Exception as exc:  # the project's code: anything can go wrong in it
        raise ConfigError(
            f"{setting}={spec!r} cannot be loaded: {located(exc, root)}", hint
        ) from None
    return target


def module_file(spec: str, root: Path) -> Path | None:
    """The file of the module `spec` names, found the way Python imports it."""
    importable(root)
    try:
        found = importlib.util.find_spec(spec.partition(":")[0])
    except (ImportError, ValueError, TypeError):
        return None
    if found is None or not found.origin or not Path(found.origin).is_file():
        return None
    return Path(found.origin)


def located(exc: BaseException, root: Path) -> str:
    """The error, and where in the project's own files it happened."""
    kind = type(exc).__name__
    first = (str(exc).strip().splitlines() or [""])[0]
    where = None
    if isinstance(exc, SyntaxError) and exc.filename:
        where, first = (exc.filename, exc.lineno), exc.msg
    else:
        mine = [f for f in traceback.extract_tb(exc.__traceback__) if _projects(f.filename, root)]
        where = (mine[-1].filename, mine[-1].lineno) if mine else None
    if where is None:
        return f"{kind}: {first}"
    return f"{os.path.relpath(where[0], root)} line {where[1]}: {kind}: {first}"


def _projects(filename: str, root: Path) -> bool:
    """A file of the project itself: not dbtasks, nor anything installed (a .venv inside
    the project included)."""
    path = Path(filename)
    installed = (Path(sys.prefix), Path(__file__).parent)
    return path.is_relative_to(root) and not any(path.is_relative_to(p) for p in installed)
