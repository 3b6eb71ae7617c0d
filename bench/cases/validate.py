"""`inv db.validate` against pytest-alembic's round-trip and model tests, same history.

Ours runs every check (graph, database, checksums, transactions, lint, drift, round trip)
with DB_METADATA pointing at models that match the history's head (`bench/models.py`),
on an empty configured database; it builds its own scratch database, as it always does.
Theirs is pytest running pytest-alembic's `test_up_down_consistency` and
`test_model_definitions_match_ddl` through the project's dbtasks env.py, each test on an
empty database of its own made before the timed run. Either side reporting a problem
fails the case: the models match the migrations, so a problem means a broken run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import proc
from bench.checks import CheckFailed, require_at_head, require_empty
from bench.context import Bench
from bench.harness import Case, Ratio, Side
from bench.models import METADATA, MODULE, render_models, require_models_match
from bench.outcomes import require_all_passed, require_validated
from bench.project import Project

TEST_FILE = "test_pytest_alembic_bench.py"
JUNIT = "pytest_alembic_junit.xml"
THEIR_TESTS = ("test_model_definitions_match_ddl", "test_up_down_consistency")

# Each pytest-alembic test needs an empty database (it leaves its own at head): the
# fixtures pick the one prepared for the test, named after DB_NAME and the test.
TEST_MODULE = '''"""pytest-alembic's round trip and model tests through the project's env.py
(written by bench/cases/validate.py)."""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from alembic.config import Config
from pytest_alembic.tests import test_model_definitions_match_ddl, test_up_down_consistency
from sqlalchemy import Engine

from dbtasks import pg
from dbtasks.adapter.workspace import SETTINGS_KEY
from dbtasks.settings import Settings, load_settings

__all__ = ["test_model_definitions_match_ddl", "test_up_down_consistency"]


@pytest.fixture
def bench_settings(request: pytest.FixtureRequest) -> Settings:
    settings = load_settings()
    name = f"{settings.endpoint.database}_{request.node.name.removeprefix('test_')}"
    return replace(settings, endpoint=replace(settings.endpoint, database=name))


@pytest.fixture
def alembic_config(bench_settings: Settings) -> Config:
    config = Config("alembic.ini")
    config.attributes[SETTINGS_KEY] = bench_settings
    return config


@pytest.fixture
def alembic_engine(bench_settings: Settings) -> Iterator[Engine]:
    engine = pg.engine(bench_settings.endpoint)
    try:
        yield engine
    finally:
        engine.dispose()
'''


def their_databases(prefix: str) -> list[str]:
    return [f"{prefix}_{test.removeprefix('test_')}" for test in THEIR_TESTS]


@dataclass
class ValidateRun:
    """One validate comparison: its project, its databases and what each side does."""

    b: Bench
    project: Project

    @property
    def n(self) -> int:
        return self.project.history.count

    @property
    def ours_db(self) -> str:
        return f"validate_ours_{self.n}"

    @property
    def theirs_db(self) -> str:
        return f"validate_theirs_{self.n}"

    def env(self, database: str) -> dict[str, str]:
        return {**self.b.ours(database), "DB_METADATA": METADATA}

    def setup(self) -> None:
        """Write the models and the test module; the models must describe the head."""
        source = render_models(self.project.history)
        (self.project.root / f"{MODULE}.py").write_text(source, encoding="utf-8")
        require_models_match(source, self.project.history)
        (self.project.root / TEST_FILE).write_text(TEST_MODULE, encoding="utf-8")

    def ours(self) -> None:
        args = [*proc.INV, "db.validate", "--json"]
        result = proc.run(args, self.project.root, self.env(self.ours_db))
        require_validated(result.stdout, self.project.history)

    def theirs(self) -> None:
        junit = self.project.root / JUNIT
        args = [*proc.PYTEST, TEST_FILE, f"--junitxml={junit}"]
        try:
            proc.run(args, self.project.root, self.env(self.theirs_db))
        except CheckFailed:
            if junit.is_file():  # it names the test that failed, and why
                require_all_passed(junit, THEIR_TESTS)
            raise
        require_all_passed(junit, THEIR_TESTS)

    def prepare(self, *databases: str) -> Callable[[], None]:
        def prepare() -> None:
            (self.project.root / JUNIT).unlink(missing_ok=True)
            for database in databases:
                self.b.server.recreate(database)

        return prepare

    def empty(self, *databases: str) -> Callable[[], None]:
        def check() -> None:
            for database in databases:
                require_empty(self.b.server.state(database), database)

        return check

    def ours_left_nothing(self) -> None:
        """validate never touches the configured database, and drops its scratch one."""
        self.empty(self.ours_db)()
        left = self.b.server.query(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            f"{self.ours_db}\\_validate\\_%",
        )
        if left:
            raise CheckFailed(f"db.validate left its scratch database {left[0][0]} behind")

    def theirs_at_head(self) -> None:
        """Both tests end at head: they ran the history in the databases given to them."""
        for database in their_databases(self.theirs_db):
            require_at_head(self.b.server.state(database), self.project.history, database)


def validate(b: Bench, n: int) -> Case:
    case = ValidateRun(b, b.project(n))
    theirs = their_databases(case.theirs_db)
    sides = (
        Side(
            "dbtasks",
            "inv db.validate (every check)",
            case.ours,
            prepare=case.prepare(case.ours_db),
            precondition=case.empty(case.ours_db),
            verify=case.ours_left_nothing,
        ),
        Side(
            "pytest-alembic",
            "pytest: test_up_down_consistency + test_model_definitions_match_ddl",
            case.theirs,
            prepare=case.prepare(*theirs),
            precondition=case.empty(*theirs),
            verify=case.theirs_at_head,
        ),
    )
    return Case("validate", n, sides, (Ratio("dbtasks", "pytest-alembic", 1.0),), case.setup)
