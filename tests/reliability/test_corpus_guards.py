"""Destructive commands without consent, against production, or cancelled at the prompt.

One project at head r003 takes every refusal; it must be untouched afterwards. The
cluster-destroying case points at a decoy data directory, never at the session's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.reliability import observe
from tests.reliability.corpus import Case, case, params, run_all
from tests.reliability.outcome import Outcome, assert_refusal
from tests.reliability.terminal import answer_prompt_with_eof

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

REFUSALS = [
    case("reset-without-yes", "db.reset", code=4, needle="--yes"),
    case("downgrade-without-yes", "db.downgrade", "r001", code=4, needle="--yes"),
    case("stamp-without-yes", "db.stamp", "r001", code=4, needle="--yes"),
    case("production-reset", "db.reset", "--yes", code=4, needle="production", DB_ENV="production"),
    case(
        "production-downgrade",
        "db.downgrade",
        "base",
        "--yes",
        code=4,
        needle="production",
        DB_ENV="production",
    ),
    case(
        "production-stamp", "db.stamp", "base", "--yes", code=4, needle="production", DB_ENV="Prod"
    ),
    case("production-seed", "db.seed", code=4, needle="production", DB_ENV="production"),
    case("revision-empty-message", "db.revision", "-m", "", code=2, needle="empty"),
    case("revision-blank-message", "db.revision", "-m", "   ", code=2, needle="empty"),
    case("revision-no-word", "db.revision", "-m", "!!!", code=2, needle="no letter"),
    case("revision-two-lines", "db.revision", "-m", "one\ntwo", code=2, needle="line break"),
    case("merge-empty-message", "db.merge", "-m", "", code=2, needle="empty"),
]
# The decoy's data directory holds no cluster: it is refused before anyone is asked.
DESTROY = case("destroy-without-yes", "stack.down", "--destroy", code=4, needle="no cluster")
PROMPTS = [
    ("db.downgrade", "r001"),
    ("db.reset",),
    ("db.stamp", "base"),
]


@pytest.fixture(scope="module")
def at_head(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path_factory.mktemp("guards"), cluster)
    write_chain(project.versions, 3)
    upgraded = Outcome.of(project.inv("db.upgrade"))
    assert upgraded.code == 0, upgraded.describe()
    return project


@pytest.fixture(scope="module")
def decoy(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    """A project whose data directory holds only a file that must survive."""
    project = make_project(tmp_path_factory.mktemp("decoy"), cluster)
    data = project.root / "decoy-data"
    data.mkdir()
    (data / "keep").write_text("must survive\n")
    project.env["DB_DATA_DIR"] = str(data)
    return project


@pytest.fixture(scope="module")
def outcomes(at_head: ScratchProject, decoy: ScratchProject) -> dict[str, Outcome]:
    return run_all([*REFUSALS, DESTROY], lambda c: decoy if c is DESTROY else at_head)


@pytest.mark.parametrize("bad", params([*REFUSALS, DESTROY]))
def test_refused(outcomes: dict[str, Outcome], bad: Case) -> None:
    bad.check(outcomes[bad.name])


@pytest.mark.parametrize("args", PROMPTS, ids=lambda args: args[0])
def test_ctrl_d_at_the_prompt_cancels(
    at_head: ScratchProject, decoy: ScratchProject, args: tuple[str, ...]
) -> None:
    outcome = answer_prompt_with_eof(at_head, *args)
    assert "[y/N]" in outcome.stdout, outcome.describe()
    assert_refusal(outcome, 4, "cancelled")


def test_refusals_changed_nothing(
    at_head: ScratchProject, decoy: ScratchProject, outcomes: dict[str, Outcome]
) -> None:
    state = observe.read_state(at_head.settings().endpoint)
    assert observe.assert_agrees(state, ["r001", "r002", "r003"]) == ["r001", "r002", "r003"]
    assert not list(at_head.versions.glob("*_merge*")) and len(at_head.revision_files()) == 3
    assert (Path(decoy.env["DB_DATA_DIR"]) / "keep").is_file()
