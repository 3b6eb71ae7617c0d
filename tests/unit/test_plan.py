"""Planning over a scratch script directory: no database involved."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from dbtasks.errors import ConfigError
from dbtasks.migrations import plan
from dbtasks.migrations.config import make_config, script_directory
from dbtasks.settings import load_settings
from tests.projects import REVISION, write_chain
from tests.support import REPO


@pytest.fixture
def chain(tmp_path: Path) -> ScriptDirectory:
    """r001 <- r002 <- r003 <- r004, plus a branch b1 off r002 and a merge m1 of r004+b1."""
    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    versions = tmp_path / "alembic" / "versions"
    write_chain(versions, 4)
    for rev, down in (("b1", "'r002'"), ("m1", "('r004', 'b1')")):
        (versions / f"x_{rev}.py").write_text(
            REVISION.format(
                message=f"rev {rev}",
                rev=rev,
                down="",
                down_value=down,
                second=0,
                upgrade="pass",
                downgrade="pass",
            )
        )
    settings = load_settings(environ={"DB_METADATA": "x:y"}, root=tmp_path)
    return script_directory(make_config(settings))


def ids(revisions: list[plan.Revision]) -> list[str]:
    return [r.id for r in revisions]


def test_pending_from_empty_is_everything_in_order(chain: ScriptDirectory) -> None:
    order = ids(plan.pending(chain, ()))
    assert order[:2] == ["r001", "r002"]
    assert order[-1] == "m1"
    assert order.index("r003") < order.index("r004") < order.index("m1")
    assert len(order) == 6


def test_pending_from_middle(chain: ScriptDirectory) -> None:
    assert set(ids(plan.pending(chain, ("r003",)))) == {"r004", "b1", "m1"}


def test_pending_at_head_is_empty(chain: ScriptDirectory) -> None:
    assert plan.pending(chain, ("m1",)) == []


def test_pending_to_explicit_target(chain: ScriptDirectory) -> None:
    assert ids(plan.pending(chain, ("r001",), "r003")) == ["r002", "r003"]


def test_to_undo_newest_first(chain: ScriptDirectory) -> None:
    assert ids(plan.to_undo(chain, ("r004",), "r002")) == ["r004", "r003"]
    assert ids(plan.to_undo(chain, ("r002",), None)) == ["r002", "r001"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("-1", "r003"),
        ("-2", "r002"),
        ("base", None),
        ("r002", "r002"),
        ("r00", None),
    ],
)
def test_resolve_downgrade(chain: ScriptDirectory, spec: str, expected: str | None) -> None:
    if spec == "r00":
        with pytest.raises(ConfigError, match="ambiguous: r001, r002, r003, r004"):
            plan.resolve_downgrade(chain, ("r004",), spec)
        return
    assert plan.resolve_downgrade(chain, ("r004",), spec) == expected


def test_resolve_unknown_suggests_close_matches(chain: ScriptDirectory) -> None:
    with pytest.raises(ConfigError) as info:
        plan.resolve_downgrade(chain, ("r004",), "r0004")
    assert "unknown revision 'r0004'" in info.value.render()
    assert "did you mean" in info.value.render()


def test_resolve_not_applied_is_refused(chain: ScriptDirectory) -> None:
    with pytest.raises(ConfigError, match="is not applied"):
        plan.resolve_downgrade(chain, ("r002",), "r004")


def test_step_back_past_base(chain: ScriptDirectory) -> None:
    with pytest.raises(ConfigError, match="history is shorter"):
        plan.resolve_downgrade(chain, ("r001",), "-3")


def test_step_back_through_a_merge_needs_a_name(chain: ScriptDirectory) -> None:
    with pytest.raises(ConfigError, match="is a merge"):
        plan.resolve_downgrade(chain, ("m1",), "-1")


def test_history_states_and_shapes(chain: ScriptDirectory) -> None:
    rows = {row.revision.id: row for row in plan.history(chain, ("r003",))}
    assert rows["r003"].state == "current"
    assert rows["r001"].state == rows["r002"].state == "applied"
    assert rows["r004"].state == rows["m1"].state == "pending"
    assert rows["r002"].revision.branch_point
    assert rows["m1"].revision.merge
    assert rows["r001"].revision.date == "2026-01-01 00:00:01"


def test_history_range(chain: ScriptDirectory) -> None:
    rows = plan.history(chain, (), "r002:r003")
    assert [r.revision.id for r in rows] == ["r003", "r002"]


def test_history_bad_range(chain: ScriptDirectory) -> None:
    with pytest.raises(ConfigError, match="is not a range"):
        plan.history(chain, (), "r002")


def test_unknown_current(chain: ScriptDirectory) -> None:
    assert plan.unknown(chain, ("r001", "gone")) == ["gone"]
