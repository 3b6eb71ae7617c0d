"""The revision-graph cache: any change to a revision file or alembic.ini invalidates it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dbtasks import cachefile
from dbtasks.adapter.workspace import Workspace
from dbtasks.migrations import graph_cache
from dbtasks.settings import Settings, load_settings
from tests.projects import write_chain
from tests.support import REPO

HOUR_NS = 3600 * 10**9


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    write_chain(versions, 3)
    return load_settings(environ={}, root=tmp_path)


def cache(settings: Settings, age_ns: int = 0) -> None:
    """Build and save the cache; `age_ns` backdates the files first (not racily new)."""
    if age_ns:
        for path in (settings.project_root / "alembic" / "versions").glob("*.py"):
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns - age_ns, st.st_mtime_ns - age_ns))
    ws = Workspace.open(settings)
    graph_cache.save(settings, ws.graph, ws.state)


def versions(settings: Settings) -> Path:
    return settings.project_root / "alembic" / "versions"


def test_a_cache_of_unchanged_files_is_used(project: Settings) -> None:
    cache(project)
    found = graph_cache.load(project)
    assert found is not None
    graph, where = found
    assert graph.heads == ("r003",) and len(graph) == 3
    assert where.folders == (versions(project),)


def keep_times(path: Path, change: Callable[[], object]) -> None:
    st = path.stat()
    change()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


CHANGES: dict[str, Callable[[Path], object]] = {
    "edit": lambda v: (v / "002_r002.py").write_text(
        (v / "002_r002.py").read_text().replace("step 2", "step two")
    ),
    "addition": lambda v: (v / "004_extra.py").write_text(
        (v / "003_r003.py").read_text().replace("'r003'", "'r004'").replace("'r002'", "'r003'")
    ),
    "deletion": lambda v: (v / "003_r003.py").unlink(),
    "rename": lambda v: (v / "003_r003.py").rename(v / "003_renamed.py"),
    "touch": lambda v: os.utime(v / "001_r001.py"),
    "touch within the same second": lambda v: os.utime(
        v / "001_r001.py",
        ns=((v / "001_r001.py").stat().st_atime_ns, (v / "001_r001.py").stat().st_mtime_ns + 1),
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_invalidates(project: Settings, change: str) -> None:
    cache(project, age_ns=HOUR_NS)
    CHANGES[change](versions(project))
    assert graph_cache.load(project) is None


def test_an_edit_that_keeps_size_and_time_is_caught_while_racy(project: Settings) -> None:
    """Files written moments before the cache are remembered by content: an edit that
    keeps their size and modification time cannot hide."""
    cache(project)
    path = versions(project) / "002_r002.py"
    keep_times(path, lambda: path.write_text(path.read_text().replace("t002", "t00X")))
    assert graph_cache.load(project) is None


def test_alembic_ini_change_invalidates(project: Settings) -> None:
    cache(project, age_ns=HOUR_NS)
    ini = project.project_root / "alembic.ini"
    ini.write_text(ini.read_text() + "\n# edited\n")
    assert graph_cache.load(project) is None


def test_a_file_changed_while_it_was_read_is_not_trusted(project: Settings) -> None:
    """The state is taken before Alembic reads the files: a change in between shows."""
    ws = Workspace.open(project)
    time.sleep(0.01)
    path = versions(project) / "001_r001.py"
    path.write_text(path.read_text() + "\n")
    graph_cache.save(project, ws.graph, ws.state)
    assert graph_cache.load(project) is None


def test_a_corrupt_cache_is_rebuilt(project: Settings) -> None:
    cache(project)
    graph_cache.cache_path(project).write_text("{not json")
    assert graph_cache.load(project) is None


def test_revision_bytecode_follows_every_edit(project: Settings) -> None:
    """Cached bytecode is checked against the source's content: an edit that keeps the
    file's size and modification time still runs the new code."""
    import importlib.util
    import sys

    from dbtasks.adapter import bytecode

    Workspace.open(project)
    path = versions(project) / "002_r002.py"
    saved, sys.pycache_prefix = sys.pycache_prefix, str(bytecode.cache_dir(project.project_root))
    try:
        cached = Path(importlib.util.cache_from_source(str(path)))
    finally:
        sys.pycache_prefix = saved
    assert cached.is_file() and cached.read_bytes()[4] & 0b11 == 0b11  # hash-checked
    keep_times(path, lambda: path.write_text(path.read_text().replace("step 2", "step 9")))
    ws = Workspace.open(project)
    assert ws.graph.get("r002").message == "step 9"
    assert not (versions(project) / "__pycache__").exists()


def _stamp(settings: Settings) -> int:
    data = cachefile.read_json(graph_cache.cache_path(settings))
    return int(data["written_ns"])


def test_racy_files_once_settled_are_not_read_again(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files written just before the cache are compared by content while an edit could
    still hide; once they are older than that, the cache is stamped afresh and the next
    command trusts their size and time again, as for any other file."""
    cache(project)
    before = _stamp(project)
    assert graph_cache.load(project) is not None
    assert _stamp(project) == before  # still racy: read by content, stamp kept
    later = time.time_ns() + HOUR_NS
    monkeypatch.setattr(time, "time_ns", lambda: later)
    assert graph_cache.load(project) is not None
    assert _stamp(project) == later
    read: list[str] = []

    def sha(path: str) -> str:
        read.append(path)
        return ""

    monkeypatch.setattr(graph_cache, "_sha", sha)
    assert graph_cache.load(project) is not None and read == []
