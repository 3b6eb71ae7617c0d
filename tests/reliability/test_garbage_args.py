"""Every task `inv --list` shows, given garbage: it may refuse, never crash or leak.

The project under test sits at head r003 on the session cluster; garbage must neither
move it nor write a revision file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.reliability import observe
from tests.reliability.corpus import WORKERS
from tests.reliability.garbage import command_lines, list_tasks, value_flags
from tests.reliability.outcome import Outcome, assert_clean

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

CommandLine = tuple[str, ...]
SOME_TASKS = {"db.upgrade", "db.downgrade", "db.reset", "stack.down", "stack.logs", "test"}


@pytest.fixture(scope="module")
def at_head(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path_factory.mktemp("garbage"), cluster)
    write_chain(project.versions, 3)
    upgraded = Outcome.of(project.inv("db.upgrade"))
    assert upgraded.code == 0, upgraded.describe()
    return project


@pytest.fixture(scope="module")
def outcomes(at_head: ScratchProject) -> dict[CommandLine, Outcome]:
    tasks = list_tasks(at_head)
    assert set(tasks) >= SOME_TASKS, tasks
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        flags = dict(zip(tasks, pool.map(lambda t: value_flags(at_head, t), tasks), strict=True))
        lines = [line for task in tasks for line in command_lines(task, flags[task])]
        results = pool.map(lambda line: Outcome.of(at_head.inv(*line)), lines)
        return dict(zip(lines, results, strict=True))


def test_every_task_survives_garbage(outcomes: dict[CommandLine, Outcome]) -> None:
    broken = []
    for line, outcome in outcomes.items():
        try:
            assert_clean(outcome)
        except AssertionError:
            broken.append(f"inv {' '.join(map(repr, line))}: {outcome.describe()}")
    assert not broken, "\n\n".join(broken)
    print(f"{len(outcomes)} garbage command lines")


def test_garbage_changed_nothing(
    at_head: ScratchProject, outcomes: dict[CommandLine, Outcome]
) -> None:
    state = observe.read_state(at_head.settings().endpoint)
    assert observe.assert_agrees(state, ["r001", "r002", "r003"]) == ["r001", "r002", "r003"]
    assert len(at_head.revision_files()) == 3


def test_invokes_own_parse_errors_exit_1_as_documented(
    outcomes: dict[CommandLine, Outcome],
) -> None:
    """Invoke rejects these before any task runs, with its own message and exit 1 (the
    README's exit-code table says so)."""
    unknown = outcomes[("db.status", "--no-such-flag")]
    assert "--no-such-flag" in unknown.stderr, unknown.describe()
    assert unknown.code == 1, unknown.describe()
