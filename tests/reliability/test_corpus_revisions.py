"""Typo'd, ambiguous and empty revision ids, for every command that takes one.

One project at head r003 serves every case: each is refused before anything changes,
which the version table is checked for once they have all run.
"""

from __future__ import annotations

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.reliability import observe
from tests.reliability.corpus import Case, case, params, run_all
from tests.reliability.outcome import Outcome

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


CASES = [
    case("upgrade-ambiguous", "db.upgrade", "-r", "r0", code=2, needle="ambiguous"),
    case("upgrade-typo", "db.upgrade", "-r", "r0004", code=2, needle="unknown revision"),
    case("upgrade-empty", "db.upgrade", "-r", "", code=2, needle="revision"),
    case("upgrade-sql-empty", "db.upgrade", "--sql", "-r", "", code=2, needle="revision"),
    case("downgrade-ambiguous", "db.downgrade", "r00", "--yes", code=2, needle="ambiguous"),
    case("downgrade-typo", "db.downgrade", "r0001", "--yes", code=2, needle="did you mean"),
    case("downgrade-empty", "db.downgrade", " ", "--yes", code=2, needle="revision"),
    case("stamp-ambiguous", "db.stamp", "r0", "--yes", code=2, needle="ambiguous"),
    case("stamp-typo", "db.stamp", "rr001", "--yes", code=2, needle="unknown revision"),
    case("stamp-empty", "db.stamp", "", "--yes", code=2, needle="revision"),
    case("show-ambiguous", "db.show", "r0", code=2, needle="ambiguous"),
    case("show-typo", "db.show", "r01x", code=2, needle="unknown revision"),
    case("show-empty", "db.show", "", code=2, needle="revision"),
    case("history-ambiguous", "db.history", "-r", "r0:r002", code=2, needle="r0"),
    case("history-typo", "db.history", "-r", "r009:head", code=2, needle="r009"),
    case("history-not-a-range", "db.history", "-r", "r001", code=2, needle="range"),
]
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def at_head(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path_factory.mktemp("revision-ids"), cluster)
    write_chain(project.versions, 3)
    upgraded = Outcome.of(project.inv("db.upgrade"))
    assert upgraded.code == 0, upgraded.describe()
    return project


@pytest.fixture(scope="module")
def outcomes(at_head: ScratchProject) -> dict[str, Outcome]:
    return run_all(CASES, lambda _: at_head)


@pytest.mark.parametrize("bad", params(CASES, KNOWN))
def test_bad_revision_id(outcomes: dict[str, Outcome], bad: Case) -> None:
    bad.check(outcomes[bad.name])


def test_refused_ids_changed_nothing(at_head: ScratchProject, outcomes: dict[str, Outcome]) -> None:
    assert observe.read_state(at_head.settings().endpoint).versions == ("r003",)
