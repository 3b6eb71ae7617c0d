"""The squash's effects on files: the replaced revisions move, unchanged, into a folder
Alembic does not read, the baseline is written, and `--prune` deletes that folder. Every
path is checked against the FileGrant of the version folders first; a baseline that does
not compile and import is removed and the moved files go back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks.errors import DbTasksError
from dbtasks.squash import folder_name

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.grants import FileGrant
    from dbtasks.squash.cut import Cut


@dataclass(frozen=True)
class Moved:
    source: Path
    destination: Path


def replaced_folder(revision_file: str | Path, upto: str) -> Path:
    return Path(revision_file).parent / folder_name(upto)


def move_replaced(cut: Cut, files: FileGrant) -> list[Moved]:
    """Move every replaced revision file into `replaced_by_<REV>/` beside it."""
    moved: list[Moved] = []
    try:
        for revision in cut.replaced:
            source = Path(revision.path)
            target = replaced_folder(source, cut.upto.id) / source.name
            files.require(source)
            files.require(target.parent)
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                raise DbTasksError(f"{target} already exists: a squash up to {cut.upto.id} ran")
            os.replace(source, target)
            moved.append(Moved(source, target))
    except BaseException:
        put_back(moved, files)
        raise
    return moved


def put_back(moved: list[Moved], files: FileGrant) -> None:
    for each in reversed(moved):
        files.require(each.source)
        os.replace(each.destination, each.source)
    for folder in {m.destination.parent for m in moved}:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def write_baseline(
    ws: Workspace, path: Path, text: str, moved: list[Moved], files: FileGrant
) -> None:
    """Write the baseline, which must compile and import, and read the history again;
    on any failure nothing stays changed."""
    from dbtasks.adapter.autogen import check_imports

    real = files.require(path)
    try:
        fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        check_imports(str(real))
        ws.reload()
    except BaseException:
        real.unlink(missing_ok=True)
        put_back(moved, files)
        raise


def prune(folders: list[Path], files: FileGrant) -> int:
    """Delete the replaced files (and their folders); how many files went."""
    count = 0
    for folder in folders:
        for path in sorted(folder.rglob("*"), reverse=True):
            files.require(path)
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
                count += path.suffix == ".py"
        files.require(folder)
        folder.rmdir()
    return count
