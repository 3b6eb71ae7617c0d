"""dbtasks' own bytecode cache: compiled once, used only for the exact source it came from."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

import pytest

import dbtasks
from dbtasks import compiled


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def load(path: Path) -> dict[str, object]:
    loader = compiled._CachedSourceLoader("dbtasks_probe", str(path))
    space: dict[str, object] = {}
    exec(loader.get_code("dbtasks_probe"), space)  # noqa: S102 - the test's own file
    return space


def test_compiles_once_then_reads_the_cache(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 1\n")
    assert load(source)["VALUE"] == 1
    assert compiled.cached_path(str(source)).is_file()
    assert compiled.cached_path(str(source)).is_relative_to(cache_home)

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(compiled._CachedSourceLoader, "source_to_code", no_compile)
    assert load(source)["VALUE"] == 1


def test_an_edit_that_keeps_size_and_time_is_seen(cache_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 1\n")
    assert load(source)["VALUE"] == 1
    st = source.stat()
    source.write_text("VALUE = 2\n")  # same size
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    assert load(source)["VALUE"] == 2


def test_a_damaged_cache_file_is_compiled_afresh(cache_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 3\n")
    load(source)
    cached = compiled.cached_path(str(source))
    cached.write_bytes(cached.read_bytes()[:20])
    assert load(source)["VALUE"] == 3


def test_an_unwritable_cache_only_costs_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made in it
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 4\n")
    assert load(source)["VALUE"] == 4


def test_only_dbtasks_modules_without_their_own_pyc_get_the_cache(tmp_path: Path) -> None:
    finder = compiled._FINDER
    assert finder in sys.meta_path
    assert finder.find_spec("json", None) is None
    spec = finder.find_spec("dbtasks.errors", dbtasks.__path__)
    assert spec is not None and spec.origin is not None
    has_own = os.path.exists(importlib.util.cache_from_source(spec.origin))
    expected = importlib.machinery.SourceFileLoader if has_own else compiled._CachedSourceLoader
    assert type(spec.loader) is expected
