"""A command that composes other commands' effects gets no more than each of them would.

`db.prepare` seeds only where `db.seed` may; `db.reset --allow-remote` keeps its grant to
the end (its seed included) and starts the stack once; a reset never touches another
project's version table; `db.validate` builds scratch databases only where a write is
allowed. A host the guard counts as remote but that reaches this machine is `0.0.0.0`.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from dbtasks.console import Console
from dbtasks.errors import Refused
from dbtasks.flows.prepare import Prepare
from dbtasks.flows.reset import ResetOptions, reset
from dbtasks.flows.seed import Seed
from dbtasks.settings import Settings
from dbtasks.stack import get_stack
from dbtasks.workflow import execute
from tests.projects import ScratchProject, make_project, write_chain
from tests.security import UNSPECIFIED

pytestmark = pytest.mark.integration


class Captured(Console):
    def __init__(self) -> None:
        self.captured_out, self.captured_err = io.StringIO(), io.StringIO()
        super().__init__(out=self.captured_out, err=self.captured_err)

    @property
    def text(self) -> str:
        return f"{self.captured_out.getvalue()}\n{self.captured_err.getvalue()}"


def query(settings: Settings, sql: str) -> Any:
    conn = psycopg2.connect(**settings.endpoint.connect_kwargs())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0] if cur.description else None
    finally:
        conn.close()


def create_database(cluster: Settings, name: str) -> None:
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


@pytest.fixture
def mindmirror(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """MindMirror's migrations and seeds, on an empty database of the session cluster."""
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    create_database(cluster, project.env["DB_NAME"])
    return project


def seeded(settings: Settings) -> int:
    if query(settings, "SELECT to_regclass('app.profiles')") is None:
        return 0
    return int(query(settings, "SELECT count(*) FROM auth.users"))


# -- 1. prepare seeds only what db.seed would seed -----------------------------------------


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"DB_BACKEND": "external", "DB_ENV": "production"}, "DB_ENV=production"),
        ({"DB_HOST": UNSPECIFIED}, "not on this machine"),
    ],
    ids=["production", "remote"],
)
def test_prepare_does_not_seed_where_db_seed_is_refused(
    mindmirror: ScratchProject, env: dict[str, str], why: str
) -> None:
    settings = mindmirror.settings(**env)
    with pytest.raises(Refused):
        execute(Seed(), settings, Captured())
    console = Captured()
    final = execute(Prepare(), settings, console)
    assert final is not None and final.at_head  # migrating is allowed there
    assert f"not seeding: {why}" in console.text or (
        "not seeding:" in console.text and why in console.text
    ), console.text
    assert seeded(settings) == 0


def test_prepare_seeds_a_local_database_from_nothing(mindmirror: ScratchProject) -> None:
    console = Captured()
    execute(Prepare(), mindmirror.settings(), console)
    assert seeded(mindmirror.settings()) > 0 and "seeded from" in console.text


# -- 2. reset --allow-remote keeps its grant to the end ------------------------------------


class Counting:
    """A stack that counts how often it is started."""

    def __init__(self, stack: Any) -> None:
        self.stack, self.ups = stack, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stack, name)

    def up(self, console: Console) -> Any:
        self.ups += 1
        return self.stack.up(console)


def test_reset_with_allow_remote_seeds_and_starts_the_stack_once(
    mindmirror: ScratchProject,
) -> None:
    settings = mindmirror.settings(DB_HOST=UNSPECIFIED)  # remote by the rules: external
    assert settings.backend == "external"
    execute(Prepare(), settings, Captured())  # migrated, not seeded (remote)
    stack = Counting(get_stack(settings))
    options = ResetOptions(yes=True, allow_remote=True)
    message = reset(settings, Captured(), options, stack=stack)
    assert message.startswith("rebuilt schema app") and "at head" in message
    assert seeded(settings) > 0
    assert stack.ups == 1


def test_reset_of_a_remote_target_without_allow_remote_changes_nothing(
    mindmirror: ScratchProject,
) -> None:
    settings = mindmirror.settings(DB_HOST=UNSPECIFIED)
    execute(Prepare(), settings, Captured())
    with pytest.raises(Refused):
        reset(settings, Captured(), ResetOptions(yes=True))
    assert query(settings, "SELECT to_regclass('app.profiles')") is not None


# -- 3. a reset never touches another project's version table ------------------------------


def test_another_projects_history_is_neither_read_nor_dropped(
    tmp_path: Path, cluster: Settings
) -> None:
    """Project A keeps its history in public.alembic_version; project B (DB_SCHEMA=projb)
    shares the database. B upgrades and resets its own schema and never touches A's."""
    shared = f"shared_{uuid.uuid4().hex[:10]}"
    create_database(cluster, shared)
    a = make_project(tmp_path / "a", cluster)
    write_chain(a.versions, 2)
    a.env.update(DB_NAME=shared, DB_SCHEMA="public", DB_BACKEND="external")
    execute(Prepare(), a.settings(), Captured())
    b = make_project(tmp_path / "b", cluster)
    (b.versions / "001_b1.py").write_text(
        (a.versions / "001_r001.py").read_text().replace("r001", "b1").replace("t001", "bt")
    )
    b.env.update(DB_NAME=shared, DB_SCHEMA="projb", DB_BACKEND="external")
    console = Captured()
    final = execute(Prepare(), b.settings(), console)
    assert final is not None and final.current == ("b1",)
    reset_console = Captured()
    reset(b.settings(), reset_console, ResetOptions(yes=True))
    assert "public.alembic_version" not in reset_console.text.split("destroys:")[1].splitlines()[0]
    assert query(a.settings(), "SELECT version_num FROM public.alembic_version") == "r002"
    assert query(a.settings(), "SELECT count(*) FROM public.alembic_version") == 1


# -- 4. validate builds scratch databases only where a write is allowed ---------------------


def validate(project: ScratchProject, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
    result = project.inv("db.validate", "--json", "--only", "roundtrip", *args, **env)
    return result.returncode, json.loads(result.stdout)


def scratch_databases(cluster: Settings, database: str) -> list[str]:
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                (f"{database}_validate",),
            )
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.e2e
@pytest.mark.parametrize(
    "env",
    [
        {"DB_ENV": "production"},
        {"DB_HOST": UNSPECIFIED},
    ],
    ids=["production", "remote"],
)
def test_validate_builds_no_scratch_database_where_writes_are_refused(
    tmp_path: Path, cluster: Settings, env: dict[str, str]
) -> None:
    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 2)
    create_database(cluster, project.env["DB_NAME"])
    code, report = validate(project, **env)
    (roundtrip,) = report["checks"]
    assert code == 4 and roundtrip["level"] == "refused", report
    assert "cannot build a scratch database" in roundtrip["error"]
    assert "local server" in roundtrip["error"]
    assert scratch_databases(cluster, project.env["DB_NAME"]) == []


@pytest.mark.e2e
def test_validate_with_allow_remote_builds_its_scratch_database(
    tmp_path: Path, cluster: Settings
) -> None:
    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 2)
    create_database(cluster, project.env["DB_NAME"])
    code, report = validate(project, "--allow-remote", DB_HOST=UNSPECIFIED)
    (roundtrip,) = report["checks"]
    # It ran on its scratch database (the synthetic chain's findings are real ones).
    assert roundtrip["error"] is None and roundtrip["level"] in ("pass", "fail"), report
    assert code in (0, 3)


@pytest.mark.e2e
def test_validate_through_the_pooler_is_refused_without_connecting(tmp_path: Path) -> None:
    from tests.security import REMOTE, clean_environ, inv, tasks_project

    root = tasks_project(tmp_path)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    (root / "alembic" / "versions").mkdir(parents=True)
    env = clean_environ(DB_HOST=f"pooler.{REMOTE}", DB_PORT="6543", DB_PASS="not-the-secret")
    result = inv(root, "db.validate", "--json", "--only", "roundtrip", env=env, netns=True)
    report = json.loads(result.stdout)
    assert result.returncode == 4 and report["checks"][0]["level"] == "refused", result.stderr
    assert "transaction pooler" in report["checks"][0]["error"]


def test_a_reset_drops_only_a_table_shaped_like_a_version_table(
    mindmirror: ScratchProject,
) -> None:
    """DB_VERSION_TABLE naming a table of the user's (here a users table in schema keep)
    is never dropped with the schema under reset."""
    settings = mindmirror.settings(DB_BACKEND="external")
    execute(Prepare(), settings, Captured())
    query(
        settings,
        "CREATE SCHEMA keep; CREATE TABLE keep.users (id int); INSERT INTO keep.users VALUES (1)",
    )
    odd = mindmirror.settings(
        DB_BACKEND="external", DB_VERSION_SCHEMA="keep", DB_VERSION_TABLE="users"
    )
    with pytest.raises(Refused) as info:
        reset(odd, Captured(), ResetOptions(yes=True))
    assert "not an Alembic version table" in info.value.message
    assert query(settings, "SELECT count(*) FROM keep.users") == 1


@pytest.mark.e2e
@pytest.mark.parametrize("command", [("downgrade", "base"), ("stamp", "base")])
def test_plain_alembic_downgrade_and_stamp_meet_the_guard(
    tmp_path: Path, cluster: Settings, command: tuple[str, str]
) -> None:
    """Through dbtasks' runtime, the plain `alembic` command is refused what
    `db.downgrade` and `db.stamp` would be refused: here, production."""
    import subprocess
    import sys

    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 2)
    create_database(cluster, project.env["DB_NAME"])
    execute(Prepare(), project.settings(), Captured())
    alembic = [sys.executable, "-m", "alembic", *command]
    result = subprocess.run(
        alembic,
        cwd=project.root,
        env=project.inv_env(DB_ENV="production"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "production" in result.stderr, result.stderr
    assert query(project.settings(), "SELECT version_num FROM app.alembic_version") == "r002"
    ok = subprocess.run(alembic, cwd=project.root, env=project.inv_env(), check=False)
    assert ok.returncode == 0  # the same on a local development database is allowed
