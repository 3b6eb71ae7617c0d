"""Real-history fixtures: one scratch project per history, built once per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.real.harness import Database, Databases, Project, Run, build_project
from tests.real.histories import HISTORIES, History
from tests.support import scratch_dir


@dataclass(frozen=True)
class Built:
    project: Project
    databases: Databases
    raw: Database  # raw `alembic upgrade heads`, on a database as any server makes it
    ours: Database  # `inv db.upgrade`, on a database of the dbtasks cluster
    raw_upgrade: Run
    our_upgrade: Run
    heads: list[str]  # as raw `alembic heads` lists them


@pytest.fixture(scope="module", params=HISTORIES, ids=lambda h: h.id)
def history(request: pytest.FixtureRequest) -> History:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def project(history: History) -> Iterator[Project]:
    with scratch_dir(f"real-{history.key}") as root:
        yield build_project(Path(root) / "project", history)


@pytest.fixture(scope="module")
def databases(cluster: Settings, history: History) -> Iterator[Databases]:
    made = Databases(cluster, history.key.replace("-", "_"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture(scope="module")
def built(project: Project, databases: Databases) -> Built:
    """Both upgrades, once per history; the tests judge their results."""
    listed = project.alembic_plain("heads")
    heads = sorted(line.split()[0] for line in listed.stdout.splitlines() if "(head)" in line)
    raw, ours = databases.new(template="template0"), databases.new()
    raw_upgrade = project.alembic(raw, "upgrade", "heads")
    our_upgrade = project.inv(ours, "db.upgrade")
    return Built(project, databases, raw, ours, raw_upgrade, our_upgrade, heads)
