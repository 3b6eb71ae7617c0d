"""pytest plugin: every test gets its own migrated (and seeded) database.

Each database is a clone of the snapshot `inv db.reset` uses (built once if missing), made
with `CREATE DATABASE ... TEMPLATE` and dropped after the test. Fixtures:

- `dbtasks_database`: Settings pointing at the test's own database;
- `dbtasks_url`: its SQLAlchemy URL;
- `dbtasks_settings` (session): the configuration used; override it to point elsewhere.

Mark a test `@pytest.mark.dbtasks(seed=False)` for an empty (migrated, unseeded) database.

The plugin creates and drops databases, so it obeys the same guard as `inv db.reset`:
production, hosted-Supabase and pooler targets are refused, and a host that is not this
machine needs `dbtasks_allow_remote = true` in the pytest ini options (or
`--dbtasks-allow-remote`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from dbtasks import pg

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbtasks.grants import ScratchSpace
    from dbtasks.settings import Settings
    from dbtasks.workflow import Work

ALLOW_REMOTE = "dbtasks_allow_remote"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(ALLOW_REMOTE, "let dbtasks create test databases on a remote host", "bool")
    parser.addoption(
        "--dbtasks-allow-remote",
        action="store_true",
        help="let dbtasks create test databases on a host that is not this machine",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dbtasks(seed=True): options for the test's dbtasks_database"
    )


class Templates:
    """The session's snapshots, built or found once per seed flavour, and one connection.

    Every database it makes is a scratch database of the space the guard granted."""

    def __init__(self, work: Work, space: ScratchSpace) -> None:
        self.work = work
        self.space = space
        self.cur = work.resources.enter_context(pg.maintenance(work.settings.endpoint))
        self.names: dict[bool, str] = {}

    def name(self, seed: bool) -> str:
        if seed not in self.names:
            from dbtasks.flows.reset import ensure_snapshot

            found, _ = ensure_snapshot(self.work, self.cur, self.space, seed)
            self.names[seed] = found.name
        return self.names[seed]

    def clone(self, seed: bool) -> str:
        database = f"test_{uuid.uuid4().hex[:20]}"
        pg.create_database(self.cur, database, self.space.grant(database), template=self.name(seed))
        return database

    def drop(self, database: str) -> None:
        pg.drop_database(self.cur, database, self.space.grant(database))

    def close(self) -> None:
        self.work.resources.close()


@pytest.fixture(scope="session")
def dbtasks_settings() -> Settings:
    """The project's settings (flags aside); override this fixture to use others."""
    from dbtasks.settings import load_settings

    return load_settings()


def _allow_remote(config: pytest.Config) -> bool:
    return bool(config.getoption("--dbtasks-allow-remote") or config.getini(ALLOW_REMOTE))


@pytest.fixture(scope="session")
def dbtasks_templates(
    request: pytest.FixtureRequest, dbtasks_settings: Settings
) -> Iterator[Templates]:
    import psycopg2

    from dbtasks import guard
    from dbtasks.console import Console
    from dbtasks.errors import DbTasksError
    from dbtasks.guard import Intent
    from dbtasks.stack import ensure_ready
    from dbtasks.workflow import Work

    console = Console()
    action, remote = "create test databases", _allow_remote(request.config)
    try:
        granted = guard.grant(dbtasks_settings, Intent.DESTROY, action, remote)
        space = guard.scratch_space(dbtasks_settings, action, parent=granted)
        stack = ensure_ready(dbtasks_settings, console)
        templates = Templates(Work(dbtasks_settings, console, stack, granted), space)
    except (DbTasksError, psycopg2.Error) as exc:
        _stop_session(exc, dbtasks_settings)
    try:
        yield templates
    finally:
        templates.close()
        from dbtasks import health

        health.discard_spare()  # the readiness probe's connection, if nothing took it


def _stop_session(exc: Exception, settings: Settings) -> None:
    """The whole session stops, with one line: the guard's or the server's words, masked."""
    from dbtasks.errors import DbTasksError
    from dbtasks.target import redact

    if isinstance(exc, DbTasksError):
        pytest.exit(f"dbtasks: {_for_pytest(exc)}", returncode=int(exc.exit_code))
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    line = redact(f"dbtasks: the database reported an error: {first}", [settings.endpoint.password])
    pytest.exit(line, returncode=1)


def _for_pytest(exc: Exception) -> str:
    """The guard's words, with pytest's way of allowing a remote target."""
    from dbtasks.errors import DbTasksError

    if isinstance(exc, DbTasksError) and exc.hint and "--allow-remote" in exc.hint:
        return (
            f"{exc.message} — set `{ALLOW_REMOTE} = true` in the pytest ini options, or pass "
            "--dbtasks-allow-remote"
        )
    return exc.render() if isinstance(exc, DbTasksError) else str(exc)


@pytest.fixture
def dbtasks_database(
    request: pytest.FixtureRequest, dbtasks_settings: Settings, dbtasks_templates: Templates
) -> Iterator[Settings]:
    """Settings for a fresh database of this test's own, at head, dropped afterwards."""
    import psycopg2

    from dbtasks.errors import DbTasksError

    marker = request.node.get_closest_marker("dbtasks")
    seed: Any = marker.kwargs.get("seed", True) if marker else True
    try:
        database = dbtasks_templates.clone(bool(seed))
    except (DbTasksError, psycopg2.Error) as exc:  # the first test builds the template
        _stop_session(exc, dbtasks_settings)
    try:
        yield replace(
            dbtasks_settings, endpoint=replace(dbtasks_settings.endpoint, database=database)
        )
    finally:
        dbtasks_templates.drop(database)


def search_path_option(*schemas: str) -> str:
    """`options` for libpq: each schema quoted as an identifier, and spaces and backslashes
    escaped the way libpq splits options, so no schema name can inject another option."""
    quoted = ",".join('"' + schema.replace('"', '""') + '"' for schema in schemas)
    escaped = re.sub(r"(\\|\s)", r"\\\1", quoted)
    return f"-csearch_path={escaped}"


@pytest.fixture
def dbtasks_url(dbtasks_database: Settings) -> URL:
    """The SQLAlchemy URL of the test's database, with search_path set to DB_SCHEMA (and
    `extensions` for a Supabase project, as on Supabase)."""
    from dbtasks.baseline import search_path

    url = dbtasks_database.endpoint.sqlalchemy_url()
    option = search_path_option(*search_path(dbtasks_database))
    return url.update_query_dict({"options": option})
