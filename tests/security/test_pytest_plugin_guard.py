"""The pytest plugin creates and drops databases, so it obeys the guard of `inv db.reset`.

Each test runs an inner pytest session whose `dbtasks_settings` names the target. Inner
sessions aimed at another host run in a loopback-only network namespace.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import make_project, write_chain
from tests.security import HOSTED, NETNS, REMOTE, UNSPECIFIED

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.e2e

CONFTEST = """
from pathlib import Path

import pytest

from dbtasks.settings import load_settings


@pytest.fixture(scope="session")
def dbtasks_settings():
    return load_settings(environ={env!r}, root=Path({root!r}))
"""
INNER_TEST = "def test_gets_a_database(dbtasks_database):\n    pass\n"


def inner(
    pytester: pytest.Pytester, env: dict[str, str], root: Path, *args: str, netns: bool = False
) -> pytest.RunResult:
    """An inner pytest session, in a subprocess: the plugin loads as it would for a user."""
    pytester.makeconftest(CONFTEST.format(env=env, root=str(root)))
    pytester.makepyfile(test_inner=INNER_TEST)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return pytester.run(*(NETNS if netns else []), *command, timeout=180)


def remote(**env: str) -> dict[str, str]:
    return {"DB_PASS": "not-the-secret", "DB_HEALTH_TIMEOUT": "1", **env}


def databases_named(cluster: Settings, prefix: str) -> list[str]:
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,))
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.parametrize("environment", ["production", "prod"])
def test_production_fails_the_session_at_once(
    pytester: pytest.Pytester, cluster: Settings, tmp_path: Path, environment: str
) -> None:
    project = make_project(tmp_path / "project", cluster)
    write_chain(project.versions, 1)
    name = f"plugprod_{uuid.uuid4().hex[:10]}"
    env = {**project.env, "DB_NAME": name, "DB_ENV": environment}
    result = inner(pytester, env, project.root)
    assert result.ret == 4, result.stdout.str()
    assert "production" in result.stdout.str()
    assert "passed" not in result.parseoutcomes()
    assert databases_named(cluster, name[:12]) == []


def test_remote_target_needs_the_plugins_permission(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    result = inner(pytester, remote(DB_HOST=REMOTE), tmp_path, netns=True)
    assert result.ret == 4, result.stdout.str()
    assert "refusing" in result.stdout.str()


def test_remote_refusal_names_the_plugins_own_option(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    result = inner(pytester, remote(DB_HOST=REMOTE), tmp_path, netns=True)
    text = result.stdout.str()
    assert "--dbtasks-allow-remote" in text or "dbtasks_allow_remote" in text, text


@pytest.mark.parametrize("how", ["ini", "flag"])
def test_remote_target_with_permission_passes_the_guard(
    pytester: pytest.Pytester, tmp_path: Path, how: str
) -> None:
    if how == "ini":
        pytester.makeini("[pytest]\ndbtasks_allow_remote = true\n")
    args = ("--dbtasks-allow-remote",) if how == "flag" else ()
    result = inner(pytester, remote(DB_HOST=REMOTE), tmp_path, *args, netns=True)
    text = result.stdout.str() + result.stderr.str()
    assert "refusing" not in text
    assert "not found" in text, text  # it went on to connect, in a namespace with no DNS


@pytest.mark.parametrize(
    "env",
    [{"DB_HOST": HOSTED}, {"DB_HOST": f"pooler.{REMOTE}", "DB_PORT": "6543"}],
    ids=["hosted", "pooler"],
)
def test_hosted_and_pooler_targets_are_refused_even_with_permission(
    pytester: pytest.Pytester, tmp_path: Path, env: dict[str, str]
) -> None:
    result = inner(pytester, remote(**env), tmp_path, "--dbtasks-allow-remote", netns=True)
    assert result.ret == 4, result.stdout.str()
    assert "refusing" in result.stdout.str()


SEEDED_TEST = """
import psycopg2


def test_gets_a_seeded_database(dbtasks_database):
    conn = psycopg2.connect(**dbtasks_database.endpoint.connect_kwargs())
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM auth.users")
        assert cur.fetchone()[0] > 0
"""


def test_remote_target_with_permission_builds_a_seeded_template(
    pytester: pytest.Pytester, cluster: Settings, tmp_path: Path
) -> None:
    """The template build composes the upgrade and the seed under the plugin's own grant:
    a remote target it was allowed gets its seeds too (0.0.0.0 is remote by the rules and
    reaches the session cluster)."""
    project = make_project(tmp_path / "project", cluster, with_mindmirror=True)
    name = f"plugremote_{uuid.uuid4().hex[:8]}"
    env = {**project.env, "DB_HOST": UNSPECIFIED, "DB_NAME": name}
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:  # a database dbtasks does not own exists already
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    pytester.makeconftest(CONFTEST.format(env=env, root=str(project.root)))
    pytester.makepyfile(test_inner=SEEDED_TEST)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--dbtasks-allow-remote"]
    result = pytester.run(*command, timeout=180)
    assert result.ret == 0, result.stdout.str()


def test_a_server_refusal_is_one_masked_line_even_with_locals_shown(
    pytester: pytest.Pytester, cluster: Settings, tmp_path: Path
) -> None:
    """A role that may not create databases: the plugin stops the session with the
    server's words, and no frame's locals (pytest -l) show the password."""
    role, secret = f"plugrole_{uuid.uuid4().hex[:8]}", "Tester-Passw0rd-QQ"
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", (secret,))
    conn.close()
    project = make_project(tmp_path / "project", cluster)
    write_chain(project.versions, 1)
    env = {
        **project.env,
        "DB_BACKEND": "external",
        "DB_USER": role,
        "DB_PASS": secret,
        "DB_NAME": "postgres",
    }
    pytester.makeconftest(CONFTEST.format(env=env, root=str(project.root)))
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-l")
    text = result.stdout.str() + result.stderr.str()
    assert result.ret != 0 and secret not in text, text
    assert "dbtasks:" in text
