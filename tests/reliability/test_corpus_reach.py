"""No server, no database, and a reader that stops reading.

Read-only commands must never create the database they did not find; a reader closing
the pipe early (`inv db.history --json | head -c 10`) is not an error.
"""

from __future__ import annotations

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.reliability import observe
from tests.reliability.corpus import Case, case, params, run_all
from tests.reliability.outcome import Outcome, assert_clean
from tests.reliability.terminal import SMALL_PIPE, into_closed_pipe, read_then_close
from tests.support import free_port

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

LONG_MESSAGE = "a long message, so that the listing is far more than one pipe holds"
NO_SERVER = [
    case("status-no-server", "db.status", code=1, needle="inv stack.up"),
    case("health-no-server", "db.health", code=1, needle="connection refused"),
    # The history is the files': without a database it is shown, marked "unknown".
    case("history-no-server", "db.history", "--json", code=0, needle="showing the revision files"),
    case(
        "upgrade-no-server",
        "db.upgrade",
        code=1,
        needle="cannot reach",
        DB_BACKEND="external",
        DB_HEALTH_TIMEOUT="1",
    ),
]
NO_DATABASE = [
    case("status-no-database", "db.status", code=1, needle="run `inv"),
    case("history-no-database", "db.history", code=0, needle="showing the revision files"),
    case("heads-no-database", "db.heads", "--json", code=0, needle="showing the revision files"),
]


@pytest.fixture(scope="module")
def nowhere(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    """A project whose port has no server behind it."""
    project = make_project(tmp_path_factory.mktemp("nowhere"), cluster)
    project.env["DB_PORT"] = str(free_port())
    return project


@pytest.fixture(scope="module")
def missing(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    """A project whose database was never created."""
    project = make_project(tmp_path_factory.mktemp("missing"), cluster)
    write_chain(project.versions, 2)
    return project


@pytest.fixture(scope="module")
def outcomes(nowhere: ScratchProject, missing: ScratchProject) -> dict[str, Outcome]:
    return run_all(NO_SERVER + NO_DATABASE, lambda c: nowhere if c in NO_SERVER else missing)


@pytest.mark.parametrize("bad", params(NO_SERVER + NO_DATABASE))
def test_unreachable(outcomes: dict[str, Outcome], bad: Case) -> None:
    bad.check(outcomes[bad.name])


def test_read_only_commands_create_nothing(
    missing: ScratchProject, outcomes: dict[str, Outcome]
) -> None:
    endpoint = missing.settings().endpoint
    assert not observe.database_exists(endpoint, endpoint.database)


@pytest.fixture(scope="module")
def long_history(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path_factory.mktemp("long-history"), cluster)
    write_chain(project.versions, 80)
    for path in project.revision_files():
        text = path.read_text()
        path.write_text(
            text.replace(
                '"""step',
                '"""a long message, so that the listing is far more than one pipe holds: step',
                1,
            )
        )
    observe.create_database(project.settings().endpoint)
    return project


@pytest.mark.parametrize("args", [("db.history", "--json"), ("db.history",)], ids=" ".join)
def test_reader_closing_the_pipe_early(long_history: ScratchProject, args: tuple[str, ...]) -> None:
    whole = Outcome.of(long_history.inv(*args))
    assert whole.code == 0, whole.describe()
    # More than the pipe holds, or the writer would never meet the closed end.
    assert len(whole.stdout) > 2 * SMALL_PIPE, len(whole.stdout)
    cut = read_then_close(long_history, *args)
    assert_clean(cut)
    assert cut.stdout == whole.stdout[:10]
    assert cut.code == 0 and cut.stderr == "", cut.describe()


@pytest.mark.parametrize(
    "args", [("--list",), ("--help", "db.upgrade"), ("db.squash", "--help")], ids=" ".join
)
def test_invokes_own_output_into_a_closed_pipe(
    long_history: ScratchProject, args: tuple[str, ...]
) -> None:
    """Help and the task list are printed by Invoke itself, not through our console."""
    cut = into_closed_pipe(long_history, *args)
    assert_clean(cut)
    assert cut.code == 0 and cut.stderr == "", cut.describe()
