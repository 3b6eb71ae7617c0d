"""The run ledger is a file dbtasks writes: only inside the project, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dbtasks import guard
from dbtasks.errors import ConfigError, Refused
from dbtasks.fleet import ledger


def test_the_ledger_round_trips_and_says_what_is_left(tmp_path: Path) -> None:
    keeper = ledger.Keeper.of(tmp_path)
    book = keeper.start("heads", ["a", "b", "c"])
    book.members["a"] = ledger.Entry("committed", ["r1"])
    book.members["b"] = ledger.Entry("failed", ["r0"], "boom")
    keeper.save(book)
    again = ledger.load(tmp_path)
    assert again.members == book.members and again.left() == ["b", "c"]


def test_a_grant_elsewhere_writes_nothing(tmp_path: Path) -> None:
    other = guard.files((tmp_path / "elsewhere",), "test")
    with pytest.raises(Refused):
        ledger.save(tmp_path, ledger.Ledger("heads", {}), other)
    assert not ledger.path_of(tmp_path).exists()


def test_a_link_out_of_the_project_is_not_followed(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    outside.mkdir()
    (project / ".dbtasks").mkdir(parents=True)
    os.symlink(outside, project / ".dbtasks" / "fleet")
    with pytest.raises(Refused):
        ledger.Keeper.of(project).start("heads", ["a"])
    assert list(outside.iterdir()) == []


def test_a_missing_or_broken_ledger_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no fleet run to resume"):
        ledger.load(tmp_path)
    ledger.path_of(tmp_path).parent.mkdir(parents=True)
    ledger.path_of(tmp_path).write_text("{not json")
    with pytest.raises(ConfigError, match="cannot be read"):
        ledger.load(tmp_path)
