"""Plans over a scratch history, resolved as Alembic resolves them: no database involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.adapter import plan
from dbtasks.adapter.workspace import Workspace
from dbtasks.errors import ConfigError, ExitCode
from dbtasks.migrations.graph import Revision
from dbtasks.settings import load_settings
from tests.projects import revision_text, write_chain
from tests.support import REPO


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """r001 <- r002 <- r003 <- r004, plus a branch b1 off r002 (label `feature`) and a
    merge m1 of r004+b1."""
    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text((REPO / "alembic.ini").read_text())
    versions = tmp_path / "alembic" / "versions"
    write_chain(versions, 4)
    merged: tuple[tuple[str, str | tuple[str, ...]], ...] = (("b1", "r002"), ("m1", ("r004", "b1")))
    for rev, down in merged:
        text = revision_text(rev, down)
        if rev == "b1":
            text = text.replace("branch_labels = None", "branch_labels = ('feature',)")
        (versions / f"x_{rev}.py").write_text(text)
    return Workspace.open(load_settings(environ={}, root=tmp_path))


def ids(revisions: list[Revision]) -> list[str]:
    return [r.id for r in revisions]


def test_graph_pending_from_empty_is_everything_in_order(ws: Workspace) -> None:
    order = ids(ws.graph.pending(()))
    assert order[:2] == ["r001", "r002"]
    assert order[-1] == "m1"
    assert order.index("r003") < order.index("r004") < order.index("m1")
    assert len(order) == 6


def test_graph_pending_matches_alembic(ws: Workspace) -> None:
    for current in [(), ("r001",), ("r003",), ("b1",), ("r004", "b1"), ("m1",)]:
        ours = set(ids(ws.graph.pending(current)))
        assert ours == set(ids(plan.upgrade_plan(ws, current, "heads"))), current


def _parents_first(order: list[Revision], applied: set[str]) -> bool:
    seen = set(applied)
    for rev in order:
        if not set(rev.down) | set(rev.depends_on) <= seen:
            return False
        seen.add(rev.id)
    return True


def test_graph_pending_puts_parents_and_dependencies_first(ws: Workspace, tmp_path: Path) -> None:
    """The plan an upgrade to every head runs: each revision after all it needs, a
    dependency on another branch included (Alembic's walk order, reversed, guarantees it)."""
    versions = tmp_path / "alembic" / "versions"
    text = revision_text("c1", "r001").replace("depends_on = None", "depends_on = ('b1',)")
    (versions / "x_c1.py").write_text(text)
    graph = Workspace.open(load_settings(environ={}, root=tmp_path)).graph
    assert graph.get("c1").depends_on == ("b1",)
    for current in [(), ("r001",), ("r002",), ("b1",), ("r004", "b1")]:
        pending = graph.pending(current)
        assert _parents_first(pending, graph.ancestors(current)), current
        assert not {r.id for r in pending} & graph.ancestors(current)


def test_graph_shape(ws: Workspace) -> None:
    assert ws.graph.heads == ("m1",)
    assert ws.graph.get("r002").branch_point
    assert ws.graph.get("m1").merge
    assert ws.graph.get("b1").branch_labels == ("feature",)
    assert set(ws.graph.children("r002")) == {"r003", "b1"}
    assert ws.graph.get("r001").date == "2026-01-01 00:00:01"
    assert ws.graph.unknown(("r001", "gone")) == ["gone"]


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ((), "+1", ["r001"]),
        (("r003",), "+1", ["r004"]),
        (("r001",), "+2", None),  # r002 branches: Alembic calls the walk ambiguous
        ((), "r001+1", ["r001", "r002"]),
        (("r001",), "r003", ["r002", "r003"]),
        (("r002",), "feature@b1", ["b1"]),
        (("r002",), "feature@head", ["b1", "r003", "r004", "m1"]),
        (("m1",), "heads", []),
        (("r003",), "r00", None),
        ((), "nope", None),
    ],
)
def test_upgrade_targets(
    ws: Workspace, current: tuple[str, ...], target: str, expected: list[str] | None
) -> None:
    if expected is None:
        with pytest.raises(ConfigError) as info:
            plan.upgrade_plan(ws, current, target)
        assert info.value.exit_code == ExitCode.BAD_INPUT
        assert "\n" not in info.value.render()
        return
    assert ids(plan.upgrade_plan(ws, current, target)) == expected


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (("r004",), "-1", ["r004"]),
        (("r004",), "-2", ["r004", "r003"]),
        (("r004",), "r002", ["r004", "r003"]),
        (("r002",), "base", ["r002", "r001"]),
        ((), "base", []),
        (("m1",), "head", []),
    ],
)
def test_downgrade_targets(
    ws: Workspace, current: tuple[str, ...], target: str, expected: list[str]
) -> None:
    assert ids(plan.downgrade_plan(ws, current, target)) == expected


def test_unknown_revision_is_named(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="unknown revision 'zzzz'"):
        plan.upgrade_plan(ws, (), "zzzz")


def test_ambiguous_prefix_is_named(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="ambiguous"):
        plan.resolve(ws, "r00")


def test_history_range(ws: Workspace) -> None:
    assert ids(plan.history(ws, "r002:r003")) == ["r003", "r002"]


@pytest.mark.parametrize("rng", ["r002", "nope:r003"])
def test_history_bad_range(ws: Workspace, rng: str) -> None:
    with pytest.raises(ConfigError):
        plan.history(ws, rng)


def test_stamp_heads(ws: Workspace) -> None:
    assert plan.stamp_heads(ws, ("r004",), "base") == ()
    assert plan.stamp_heads(ws, ("r004",), "heads") == ("m1",)
    assert plan.stamp_heads(ws, ("r003",), "r001") == ("r001",)
    assert plan.stamp_heads(ws, ("r004",), "b1") == ("b1", "r004")


def test_a_known_history_plans_as_its_files_do_without_importing_them(
    ws: Workspace, tmp_path: Path
) -> None:
    """A workspace opened from a valid graph cache (branch labels, a merge) resolves every
    target as the one that imported the files, and imports none of them to do it."""
    known = Workspace.open(
        load_settings(environ={}, root=tmp_path), known=(ws.graph, ws.state.where)
    )
    cases = [((), "heads"), (("r002",), "feature@head"), (("r001",), "r003"), ((), "r001+1")]
    for current, target in cases:
        assert ids(plan.upgrade_plan(known, current, target)) == ids(
            plan.upgrade_plan(ws, current, target)
        ), (current, target)
    assert ids(plan.downgrade_plan(known, ("m1",), "r002")) == ids(
        plan.downgrade_plan(ws, ("m1",), "r002")
    )
    scripts = [known.script.revision_map.get_revision(r.id) for r in ws.graph.walk()]
    assert all(getattr(s, "_module", "imported") is None for s in scripts)
    assert known.module("b1").revision == "b1"  # imported when first needed
