"""What every comparison is built from: the server, the projects, the Python mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import proc
from bench.checks import require_at_head
from bench.project import Project, make_project
from bench.server import Server


@dataclass
class Bench:
    server: Server
    root: Path
    mode: proc.Mode
    base_env: dict[str, str]
    projects: dict[int, Project] = field(default_factory=dict)

    def project(self, revisions: int) -> Project:
        """The project with `revisions` revisions, written once and shared by every mode."""
        if revisions not in self.projects:
            root = self.root / "projects" / f"n{revisions}"
            self.projects[revisions] = make_project(root, revisions)
        return self.projects[revisions]

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        """The environment of one side: the same Python settings for every side."""
        return {**self.base_env, **self.mode.env(), **extra}

    def ours(self, database: str) -> dict[str, str]:
        return self.env(self.server.ours_env(database))

    def raw(self, database: str) -> dict[str, str]:
        return self.env(self.server.raw_env(database))

    def at_head(self, project: Project, database: str) -> Callable[[], None]:
        """A check: `database` is at head with every object of the history."""

        def check() -> None:
            require_at_head(self.server.state(database), project.history, database)

        return check


# Alembic logs this on every online run: without it, a count of zero would prove nothing.
ALEMBIC_LOG_MARK = "Context impl PostgresqlImpl"


def count_runs(output: str, verb: str) -> int:
    """How many revisions Alembic's log says it ran ("Running upgrade a -> b")."""
    from bench.checks import CheckFailed

    if ALEMBIC_LOG_MARK not in output:
        raise CheckFailed(f"Alembic's log is missing ({ALEMBIC_LOG_MARK!r}): cannot count runs")
    return sum(1 for line in output.splitlines() if f"Running {verb} " in line)


def require_count(found: int, wanted: int, what: str) -> None:
    from bench.checks import CheckFailed

    if found != wanted:
        raise CheckFailed(f"{what}: {found} revisions ran, expected {wanted}")
