"""Real-history fixtures: one scratch project per history, built once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.real.harness import Built, Database, Databases, Project, build_project
from tests.real.histories import HISTORIES, History
from tests.support import scratch_dir


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
        made.drop()


@pytest.fixture(scope="module")
def built(project: Project, databases: Databases) -> Built:
    """Both upgrades, once per history; the tests judge their results."""
    listed = project.alembic_plain("heads")
    heads = sorted(line.split()[0] for line in listed.stdout.splitlines() if "(head)" in line)
    raw, ours = databases.new(template="template0"), databases.new()
    raw_upgrade = project.alembic(raw, "upgrade", "heads")
    our_upgrade = project.inv(ours, "db.upgrade")
    return Built(project, databases, raw, ours, raw_upgrade, our_upgrade, heads)


@pytest.fixture
def adopted(built: Built) -> Iterator[Database]:
    """A copy of the database raw Alembic built, the one an adopting team already has;
    dropped after the test with every database dbtasks named after it."""
    run = built.raw_upgrade
    # When raw Alembic could not build it (a stub missing), that is this tier's fault.
    assert run.returncode == 0, "raw alembic upgrade heads failed:\n" + run.stderr[-1500:]
    db = built.databases.copy(built.raw)
    try:
        yield db
    finally:
        built.databases.drop(db.name)
