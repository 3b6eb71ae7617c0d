"""Destroy and up touch only a data directory that dbtasks made.

A careless DB_DATA_DIR (the project root, $HOME, /) must not be deleted, chowned or
chmodded. Deleting is recorded instead of done while the refusals are checked, so that a
regression here fails the test instead of wiping the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.errors import ConfigError, Refused
from dbtasks.stack.native import NativeStack
from tests.support import REPO, destroy, make_settings, settings_env

pytestmark = pytest.mark.integration

MARKER = "dbtasks.cluster"
INV = [sys.executable, "-m", "invoke"]
LEGACY_INCLUDE = "include_if_exists = 'dbtasks.conf'\n"


def plant_cluster(path: Path, *, marker: bool = True, version: bool = True) -> Path:
    """The two files destroy looks for, without a real cluster behind them."""
    path.mkdir(parents=True, exist_ok=True)
    if version:
        (path / "PG_VERSION").write_text("15\n")
    if marker:
        (path / MARKER).write_text("created by dbtasks\n")
    return path


def make_project(root: Path) -> Path:
    """A project with the repository's tasks.py and something precious under .git."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "tasks.py", root / "tasks.py")
    (root / "pyproject.toml").write_text('[tool.dbtasks]\nschema = "mindmirror"\n')
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


@contextmanager
def deletions_recorded() -> Iterator[list[str]]:
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(shutil, "rmtree", lambda path, *a, **k: calls.append(str(path)))
        yield calls


def inv(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INV, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def snapshot(path: Path) -> tuple[int, int, int, list[str]]:
    st = path.stat()
    return st.st_mode, st.st_uid, st.st_gid, sorted(os.listdir(path))


# -- destroy ---------------------------------------------------------------------------------


def test_cli_destroy_of_the_project_root_is_refused(scratch: Path) -> None:
    root = make_project(scratch / "proj")
    env = {**settings_env(make_settings(root)), "DB_DATA_DIR": "."}
    result = inv(root, env, "stack.down", "--destroy", "--yes")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "project root" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (root / ".git" / "HEAD").is_file()


Place = Callable[[Path, pytest.MonkeyPatch], tuple[Path, Path]]


def _project_root(scratch: Path, mp: pytest.MonkeyPatch) -> tuple[Path, Path]:
    root = make_project(scratch / "proj")
    return root, plant_cluster(root)


def _parent_of_root(scratch: Path, mp: pytest.MonkeyPatch) -> tuple[Path, Path]:
    root = make_project(scratch / "a" / "proj")
    return root, plant_cluster(scratch)


def _fake_home(scratch: Path, mp: pytest.MonkeyPatch) -> tuple[Path, Path]:
    home = plant_cluster(scratch / "home")
    mp.setenv("HOME", str(home))
    return make_project(scratch / "proj"), home


def _real_home(scratch: Path, mp: pytest.MonkeyPatch) -> tuple[Path, Path]:
    return make_project(scratch / "proj"), Path.home()


def _filesystem_root(scratch: Path, mp: pytest.MonkeyPatch) -> tuple[Path, Path]:
    return make_project(scratch / "proj"), Path("/")


@pytest.mark.parametrize(
    ("place", "reason"),
    [
        (_project_root, "project root"),
        (_parent_of_root, "parent of the project root"),
        (_fake_home, "home directory"),
        (_real_home, "home directory"),
        (_filesystem_root, "filesystem root"),
    ],
    ids=["project-root", "parent-of-root", "home", "real-home", "slash"],
)
def test_destroy_refuses_places_that_are_never_a_data_dir(
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
    place: Place,
    reason: str,
) -> None:
    root, data = place(scratch, monkeypatch)
    stack = NativeStack(make_settings(root, DB_DATA_DIR=str(data)))
    with deletions_recorded() as deleted, pytest.raises(Refused) as info:
        destroy(stack)
    assert deleted == []
    assert reason in info.value.render()
    assert "\n" not in info.value.render()


def test_destroy_refuses_a_symlinked_data_dir(scratch: Path) -> None:
    real = plant_cluster(scratch / "real")
    root = make_project(scratch / "proj")
    (root / "pgdata").symlink_to(real)
    stack = NativeStack(make_settings(root))
    with deletions_recorded() as deleted, pytest.raises(Refused, match="symbolic link"):
        destroy(stack)
    assert deleted == []
    assert (real / "PG_VERSION").is_file()


def _notes_only(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("mine")


def _foreign_cluster(path: Path) -> None:
    plant_cluster(path, marker=False)
    (path / "postgresql.conf").write_text("port = 5432\n")


def _marker_without_cluster(path: Path) -> None:
    plant_cluster(path, version=False)
    (path / "notes.txt").write_text("mine")


def _marker_is_a_link(path: Path) -> None:
    plant_cluster(path, marker=False)
    (path.parent / "elsewhere").write_text("created by dbtasks\n")
    (path / MARKER).symlink_to(path.parent / "elsewhere")


@pytest.mark.parametrize(
    "make", [_notes_only, _foreign_cluster, _marker_without_cluster, _marker_is_a_link]
)
def test_destroy_refuses_a_directory_dbtasks_did_not_make(
    scratch: Path, make: Callable[[Path], None]
) -> None:
    make(scratch / "pgdata")
    before = snapshot(scratch / "pgdata")
    stack = NativeStack(make_settings(scratch))
    with deletions_recorded() as deleted, pytest.raises(Refused) as info:
        destroy(stack)
    assert deleted == []
    assert "refusing to delete" in info.value.render()
    assert snapshot(scratch / "pgdata") == before


def test_describe_destroy_refuses_before_anyone_is_asked(scratch: Path) -> None:
    _notes_only(scratch / "pgdata")
    with pytest.raises(Refused):
        NativeStack(make_settings(scratch)).describe_destroy()


# -- up --------------------------------------------------------------------------------------


def _with_mode_and_owner(path: Path) -> None:
    _notes_only(path)
    os.chown(path, 1234, 1234)
    path.chmod(0o751)


@pytest.mark.parametrize("make", [_notes_only, _with_mode_and_owner, _foreign_cluster])
def test_up_leaves_a_foreign_folder_untouched(scratch: Path, make: Callable[[Path], None]) -> None:
    make(scratch / "pgdata")
    before = snapshot(scratch / "pgdata")
    stack = NativeStack(make_settings(scratch, DB_HEALTH_TIMEOUT=5))
    try:
        with pytest.raises(ConfigError) as info:
            stack.up(Console())
    finally:
        if (scratch / "pgdata" / "postmaster.pid").exists():
            stack.down()
    assert "\n" not in info.value.render()
    assert snapshot(scratch / "pgdata") == before


def test_cli_up_on_the_project_root_changes_nothing(scratch: Path) -> None:
    root = make_project(scratch / "proj")
    before = snapshot(root)
    env = {**settings_env(make_settings(root)), "DB_DATA_DIR": "."}
    result = inv(root, env, "stack.up")
    assert result.returncode == 4, result.stdout + result.stderr  # refused, as by destroy
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_a_new_cluster_carries_the_marker(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    try:
        marker = scratch / "pgdata" / MARKER
        assert not marker.is_symlink()
        assert "dbtasks" in marker.read_text()
        assert (scratch / "pgdata" / "PG_VERSION").is_file()
    finally:
        destroy(stack)
    assert not (scratch / "pgdata").exists()


def test_a_cluster_from_before_the_marker_is_adopted(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    stack.down()
    data = scratch / "pgdata"
    # What an older dbtasks left behind: the include line, its config file, no marker.
    (data / MARKER).unlink(missing_ok=True)
    if LEGACY_INCLUDE not in (data / "postgresql.conf").read_text():
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(LEGACY_INCLUDE)
    (data / "dbtasks.conf").write_text("listen_addresses = '*'\n")
    try:
        stack.up(Console())
        assert (data / MARKER).is_file()
        assert not (data / "dbtasks.conf").exists()
    finally:
        destroy(stack)
    assert not data.exists()
