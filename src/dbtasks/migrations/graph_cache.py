"""A cache of the revision graph, so that status and no-op upgrades load no revision file.

It is keyed on the Alembic configuration's bytes and on the version folders' listing: every file's
name, size and modification time in nanoseconds, so an edit, an addition, a deletion, a
rename or a touch invalidates it. A file modified within two seconds of the cache being
written is also compared by content, as git does for "racily clean" files: an edit inside
the file system's timestamp granularity cannot hide. The version folders themselves come
from Alembic (stored here), never from parsing its configuration by hand.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks import cachefile
from dbtasks.migrations.graph import Graph

if TYPE_CHECKING:
    from dbtasks.settings import Settings

FORMAT = 4  # change when what the cache holds changes
_RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Locations:
    """Where revision files live, as Alembic resolved them; `known` holds each file's
    size, modification time and content hash as last read (by path), when it is known."""

    folders: tuple[Path, ...]
    recursive: bool
    known: Mapping[str, tuple[int, int, str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def sha(self, path: Path) -> str:
        """The file's content hash: remembered while its size and modification time are
        what they were when it was read, else read now."""
        found = self.known.get(str(path))
        if found is not None:
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) == found[:2]:
                return found[2]
        return _sha(str(path))

    @property
    def shas(self) -> dict[str, str]:
        """The remembered hashes of files not changed since (by path)."""
        return {p: self.sha(Path(p)) for p in self.known}

    def files(self) -> list[Path]:
        """Every revision source file, sorted; caches and hidden editor files skipped."""
        found: list[Path] = []
        for folder in self.folders:
            if folder.is_dir():
                pattern = folder.rglob("*.py") if self.recursive else folder.glob("*.py")
                found += (p for p in pattern if "__pycache__" not in p.parts)
        return sorted(found)


def cache_path(settings: Settings) -> Path:
    """One cache per history: a fleet target with an ini file of its own has its own."""
    folder = settings.project_root / ".dbtasks" / "cache"
    config = settings.alembic_config
    if config.name == "alembic.ini" and config.parent == settings.project_root:
        return folder / "graph.json"
    key = hashlib.sha256(str(config).encode()).hexdigest()[:12]
    return folder / f"graph-{key}.json"


def _ini_digest(settings: Settings) -> str:
    from dbtasks.adapter import config_files

    found = config_files.find(settings)
    data = found.digest_input() if found else b""
    return hashlib.sha256(data + _versions().encode()).hexdigest()


def _versions() -> str:
    from dbtasks import __version__

    return f"dbtasks {__version__} alembic {_alembic_release()} format {FORMAT}"


def _alembic_release() -> str:
    """Alembic's version without importing it, or importlib.metadata (60 ms on the fast
    path): the name of its installed distribution's metadata folder."""
    import importlib.util

    spec = importlib.util.find_spec("alembic")
    if spec is None or not spec.origin:
        return "absent"
    site = Path(spec.origin).parent.parent
    found = sorted(p.name for p in site.glob("alembic-*.dist-info"))
    return found[-1] if found else spec.origin


def _stat(paths: Iterable[Path]) -> dict[str, list[int]]:
    out = {}
    for path in paths:
        st = path.stat()
        out[str(path)] = [st.st_size, st.st_mtime_ns]
    return out


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load(settings: Settings) -> tuple[Graph, Locations] | None:
    """The cached graph, when nothing it was built from has changed; else None."""
    try:
        data = json.loads(cache_path(settings).read_text(encoding="utf-8"))
        if data["ini"] != _ini_digest(settings):
            return None
        where = Locations(tuple(Path(p) for p in data["folders"]), bool(data["recursive"]))
        if _stat(where.files()) != data["files"] or not _racy_files_match(settings, data):
            return None
        return Graph.from_dict(data["graph"]), _with_hashes(where, data["files"], data["sha"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, unreadable or from another version: rebuild


def _with_hashes(
    where: Locations, stats: Mapping[str, list[int]], shas: Mapping[str, str]
) -> Locations:
    known = {p: (size, mtime, shas[p]) for p, (size, mtime) in stats.items() if p in shas}
    return Locations(where.folders, where.recursive, known)


def _racy_files_match(settings: Settings, data: dict[str, Any]) -> bool:
    """Files modified in the moments before the cache was written are compared by content.
    Once they are older than that, the cache is stamped afresh so that the next command
    need not read them again (a file written by `git pull` just before a command would
    otherwise be read by every command after it)."""
    checked = time.time_ns()
    written = int(data["written_ns"])
    racy = [p for p, (_, mtime) in data["files"].items() if mtime >= written - _RACY_NS]
    if any(data["sha"].get(path) != _sha(path) for path in racy):
        return False
    if racy and all(data["files"][p][1] < checked - _RACY_NS for p in racy):
        cachefile.write_json(cache_path(settings), {**data, "written_ns": checked})
    return True


@dataclass(frozen=True)
class FileState:
    """The revision files as they were just before Alembic read them."""

    where: Locations
    files: dict[str, list[int]]
    sha: dict[str, str]
    taken_ns: int

    def paths(self) -> list[Path]:
        return [Path(p) for p in self.files]

    @classmethod
    def known(cls, where: Locations) -> FileState:
        """The state a valid cache describes (nothing to store again)."""
        stats = {p: [size, mtime] for p, (size, mtime, _) in where.known.items()}
        shas = {p: sha for p, (_, _, sha) in where.known.items()}
        return cls(where, stats, shas, 0)

    @classmethod
    def take(cls, where: Locations) -> FileState:
        """Every file's size, modification time and content hash: the hashes let a valid
        cache answer "is this the file that was applied?" and the snapshot key without
        reading the files again (and a file modified in the last moments, which could
        change again without its modification time showing it, is compared by them)."""
        taken = time.time_ns()
        stats = _stat(where.files())
        shas = {p: _sha(p) for p in stats}
        return cls(_with_hashes(where, stats, shas), stats, shas, taken)


def save(settings: Settings, graph: Graph, state: FileState) -> None:
    """Store the graph read from `state`; a cache that cannot be written only costs speed.

    The state was taken before the files were read, so a file changed while they were
    read no longer matches it and the next command rebuilds.
    """
    data = {
        "ini": _ini_digest(settings),
        "folders": [str(p) for p in state.where.folders],
        "recursive": state.where.recursive,
        "files": state.files,
        "sha": state.sha,
        "written_ns": state.taken_ns,
        "graph": graph.as_dict(),
    }
    cachefile.write_json(cache_path(settings), data)
