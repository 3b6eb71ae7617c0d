"""Revision files imported through the content-addressed code cache."""

from __future__ import annotations

import sys
from pathlib import Path

from dbtasks.adapter import bytecode


def _revision(path: Path, value: int) -> None:
    path.write_text(f'"""doc"""\nrevision = "r1"\nVALUE = {value}\n')


def test_a_file_is_compiled_once_and_an_edit_is_never_missed(tmp_path: Path) -> None:
    path = tmp_path / "versions" / "001_r1.py"
    path.parent.mkdir()
    _revision(path, 1)
    first = bytecode.load_module(tmp_path, path)
    assert (first.VALUE, first.__doc__, first.__file__) == (1, "doc", str(path))
    cached = list((bytecode.cache_dir(tmp_path) / "code").iterdir())
    assert len(cached) == 1 and cached[0].name.endswith(sys.implementation.cache_tag)
    assert bytecode.load_module(tmp_path, path).VALUE == 1  # from the cache
    _revision(path, 2)  # same size, same second: only the bytes tell
    assert bytecode.load_module(tmp_path, path).VALUE == 2
    assert "001_r1" not in " ".join(sys.modules)  # as Alembic imports them: not registered


def test_a_broken_cache_entry_is_compiled_again(tmp_path: Path) -> None:
    path = tmp_path / "001_r1.py"
    _revision(path, 3)
    bytecode.load_module(tmp_path, path)
    for entry in (bytecode.cache_dir(tmp_path) / "code").iterdir():
        entry.write_bytes(b"not marshal data")
    assert bytecode.load_module(tmp_path, path).VALUE == 3
