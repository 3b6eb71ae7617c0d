"""Which members drifted: compared only with members at the same revision."""

from __future__ import annotations

from dbtasks.fleet.drift import mark
from dbtasks.fleet.matrix import Row


def _row(name: str, current: tuple[str, ...], shape: str | None) -> Row:
    return Row(name, "t", "local", "-", current, ("r2",), shape=shape)


def test_the_odd_one_out_at_a_revision_is_named() -> None:
    rows = [_row("a", ("r2",), "x"), _row("b", ("r2",), "x"), _row("c", ("r2",), "y")]
    mark(rows)
    assert [r.drift for r in rows] == ["same", "same", "differs from 2 at r2"]


def test_members_at_other_revisions_are_not_compared() -> None:
    rows = [_row("a", ("r2",), "x"), _row("b", ("r1",), "y"), _row("c", ("r1",), "y")]
    mark(rows)
    assert [r.drift for r in rows] == ["", "same", "same"]


def test_a_tie_has_no_majority_and_unread_rows_stay_blank() -> None:
    rows = [_row("a", ("r2",), "x"), _row("b", ("r2",), "y"), _row("c", ("r2",), None)]
    unreachable = _row("d", ("r2",), "y")
    unreachable.error = "no answer"
    mark([*rows, unreachable])
    assert [r.drift for r in rows] == ["no common shape at r2"] * 2 + [""]
    assert unreachable.drift == ""
