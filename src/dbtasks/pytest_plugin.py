"""pytest plugin: every test gets its own migrated (and seeded) database.

Each database is a clone of the snapshot `inv db.reset` uses (built once if missing), made
with `CREATE DATABASE ... TEMPLATE` and dropped after the test. Fixtures:

- `dbtasks_database`: Settings pointing at the test's own database;
- `dbtasks_url`: its SQLAlchemy URL;
- `dbtasks_settings` (session): the configuration used; override it to point elsewhere.

Mark a test `@pytest.mark.dbtasks(seed=False)` for an empty (migrated, unseeded) database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from dbtasks import pg

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbtasks.settings import Settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dbtasks(seed=True): options for the test's dbtasks_database"
    )


class Templates:
    """The session's snapshots, built or found once per seed flavour, and one connection."""

    def __init__(self, settings: Settings) -> None:
        from dbtasks.console import Console

        self.settings = settings
        self.console = Console()
        self._resources = ExitStack()
        self.cur = self._resources.enter_context(pg.maintenance(settings.endpoint))
        self.names: dict[bool, str] = {}

    def name(self, seed: bool) -> str:
        if seed not in self.names:
            from dbtasks.reset import ensure_snapshot

            found, _ = ensure_snapshot(self.settings, self.console, self.cur, seed)
            self.names[seed] = found.name
        return self.names[seed]

    def clone(self, seed: bool) -> str:
        database = f"test_{uuid.uuid4().hex[:20]}"
        pg.create_database(self.cur, database, template=self.name(seed))
        return database

    def drop(self, database: str) -> None:
        pg.drop_database(self.cur, database)

    def close(self) -> None:
        self._resources.close()


@pytest.fixture(scope="session")
def dbtasks_settings() -> Settings:
    """The project's settings (flags aside); override this fixture to use others."""
    from dbtasks.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def dbtasks_templates(dbtasks_settings: Settings) -> Iterator[Templates]:
    from dbtasks.console import Console
    from dbtasks.stack import ensure_ready

    ensure_ready(dbtasks_settings, Console())
    templates = Templates(dbtasks_settings)
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture
def dbtasks_database(
    request: pytest.FixtureRequest, dbtasks_settings: Settings, dbtasks_templates: Templates
) -> Iterator[Settings]:
    """Settings for a fresh database of this test's own, at head, dropped afterwards."""
    marker = request.node.get_closest_marker("dbtasks")
    seed: Any = marker.kwargs.get("seed", True) if marker else True
    database = dbtasks_templates.clone(bool(seed))
    try:
        yield replace(
            dbtasks_settings, endpoint=replace(dbtasks_settings.endpoint, database=database)
        )
    finally:
        dbtasks_templates.drop(database)


@pytest.fixture
def dbtasks_url(dbtasks_database: Settings) -> URL:
    """The SQLAlchemy URL of the test's database, with search_path set to DB_SCHEMA."""
    url = dbtasks_database.endpoint.sqlalchemy_url()
    return url.update_query_dict({"options": f"-csearch_path={dbtasks_database.schema}"})
