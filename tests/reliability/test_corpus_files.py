"""Broken revision files: each case breaks a fresh three-revision project its own way."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.reliability import observe
from tests.reliability.corpus import Case, case, params, run_all
from tests.reliability.outcome import Outcome

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

Breakage = Callable[[Path], None]


def _edit(versions: Path, number: int, change: Callable[[str], str]) -> None:
    path = next(versions.glob(f"{number:03d}_*.py"))
    path.write_text(change(path.read_text()))


def syntax_error(versions: Path) -> None:
    _edit(versions, 3, lambda text: text + "\ndef broken(:\n")


def missing_parent(versions: Path) -> None:
    _edit(versions, 3, lambda text: re.sub(r"down_revision = .*", "down_revision = 'nope99'", text))


def duplicate_id(versions: Path) -> None:
    (versions / "004_copy.py").write_text((versions / "003_r003.py").read_text())


def name_error(versions: Path) -> None:
    _edit(versions, 3, lambda text: text + "\nundefined_name_zz\n")


def import_error(versions: Path) -> None:
    _edit(versions, 2, lambda text: "import no_such_module_zz\n" + text)


def two_heads(versions: Path) -> None:
    """A second branch off r002, as when two developers each added a revision."""
    text = (versions / "003_r003.py").read_text().replace("r003", "r003b")
    (versions / "003b_r003b.py").write_text(text.replace("t003", "t003b"))


def failing_upgrade(versions: Path) -> None:
    _edit(versions, 2, lambda text: text.replace("CREATE TABLE t002", "CREATE TABLE no.t002"))


# case name -> how its project is broken
BREAKAGES: dict[str, Breakage] = {}
CASES: list[Case] = []


def broken(name: str, breakage: Breakage, *args: str, code: int, needle: str) -> None:
    BREAKAGES[name] = breakage
    CASES.append(case(name, *args, code=code, needle=needle))


broken("syntax-error-upgrade", syntax_error, "db.upgrade", code=2, needle="SyntaxError")
broken("syntax-error-history", syntax_error, "db.history", code=2, needle="003_r003.py")
broken("missing-parent", missing_parent, "db.upgrade", code=2, needle="nope99")
broken("missing-parent-names-child", missing_parent, "db.status", code=2, needle="r003")
broken("duplicate-id", duplicate_id, "db.heads", code=2, needle="more than one file")
broken("name-error-upgrade", name_error, "db.upgrade", code=2, needle="NameError")
broken("name-error-show", name_error, "db.show", "r001", code=2, needle="NameError")
broken("import-error", import_error, "db.status", code=2, needle="no_such_module_zz")
broken(
    "two-heads-empty-revision",
    two_heads,
    "db.revision",
    "--empty",
    "-m",
    "x",
    code=2,
    needle="head",
)
broken(
    "two-heads-revision-says-merge",
    two_heads,
    "db.revision",
    "--empty",
    "-m",
    "x",
    code=2,
    needle="db.merge",
)
broken("two-heads-upgrade-head", two_heads, "db.upgrade", "-r", "head", code=2, needle="db.merge")
broken("failing-upgrade", failing_upgrade, "db.upgrade", code=1, needle="r002")
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def projects(
    tmp_path_factory: pytest.TempPathFactory, cluster: Settings
) -> dict[str, ScratchProject]:
    """One broken project per case, its database created so read-only commands reach the
    revision files."""
    made = {}
    for name, breakage in BREAKAGES.items():
        project = make_project(tmp_path_factory.mktemp(name), cluster)
        write_chain(project.versions, 3)
        breakage(project.versions)
        observe.create_database(project.settings().endpoint)
        made[name] = project
    return made


@pytest.fixture(scope="module")
def outcomes(projects: dict[str, ScratchProject]) -> dict[str, Outcome]:
    return run_all(CASES, lambda c: projects[c.name])


@pytest.mark.parametrize("bad", params(CASES, KNOWN))
def test_broken_revision_file(outcomes: dict[str, Outcome], bad: Case) -> None:
    bad.check(outcomes[bad.name])


def test_a_failing_revision_keeps_the_ones_before_it(
    projects: dict[str, ScratchProject], outcomes: dict[str, Outcome]
) -> None:
    state = observe.read_state(projects["failing-upgrade"].settings().endpoint)
    assert observe.assert_agrees(state, ["r001", "r002", "r003"]) == ["r001"]
