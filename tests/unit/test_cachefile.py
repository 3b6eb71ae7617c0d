"""The cache writer replaces files atomically and never writes through a planted link."""

from __future__ import annotations

import os
from pathlib import Path

from dbtasks import cachefile


def test_a_value_written_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "x.json"
    cachefile.write_json(path, {"a": [1, 2]})
    assert cachefile.read_json(path) == {"a": [1, 2]}
    assert list(path.parent.iterdir()) == [path]


def test_a_missing_or_broken_file_reads_as_none(tmp_path: Path) -> None:
    assert cachefile.read_json(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert cachefile.read_json(tmp_path / "bad.json") is None


def test_a_link_planted_at_the_temporary_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    path = tmp_path / "x.json"
    (tmp_path / f"x.json.{os.getpid()}.tmp").symlink_to(victim)
    cachefile.write_json(path, {"a": 1})
    assert victim.read_text() == "keep me"
    assert not path.exists()
