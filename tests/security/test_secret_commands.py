"""No command shows the password, wherever `DATABASE_URL` carries it: the real `inv` on
the session cluster, whose password holds every URL-special character."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from dbtasks.settings import Settings
from tests.projects import make_project, write_chain
from tests.security import REMOTE, clean_environ, inv, leaked, output, tasks_project
from tests.support import HOSTILE_PASSWORD

pytestmark = pytest.mark.e2e

COMMANDS = [
    (("stack.status",), 0),
    (("stack.status", "--json"), 0),
    (("db.health",), 0),
    (("db.health", "--json"), 0),
    (("db.status",), 0),
    (("db.status", "--json"), 0),
    (("db.history",), 0),
    (("db.reset",), 4),  # no --yes: it shows its target, then refuses
]
# The password in the URL's query is what used to leak; in the user-info part a few
# commands keep watch that it does not start to.
CASES = [(c, code, "query") for c, code in COMMANDS] + [
    (c, code, "userinfo") for c, code in COMMANDS if c[0] in ("stack.status", "db.reset")
]


def _url_env(cluster: Settings, database: str, data_dir: str, where: str) -> dict[str, str]:
    ep = cluster.endpoint
    secret = quote(HOSTILE_PASSWORD, safe="")
    where_to = f"{ep.host}:{ep.port}/{database}"
    if where == "userinfo":
        url = f"postgresql://{ep.user}:{secret}@{where_to}"
    else:
        url = f"postgresql://{ep.user}@{where_to}?password={secret}"
    return clean_environ(
        DATABASE_URL=url, DB_SCHEMA="app", DB_DATA_DIR=data_dir, DB_HEALTH_TIMEOUT="10"
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> tuple[Path, str]:
    """A project migrated to head on the session cluster: (its root, its database)."""
    project = make_project(tmp_path_factory.mktemp("secrets"), cluster)
    write_chain(project.versions, 2)
    result = project.inv("db.upgrade")
    assert result.returncode == 0, result.stderr
    return project.root, project.env["DB_NAME"]


@pytest.mark.parametrize(
    ("command", "code", "where"), CASES, ids=[f"{' '.join(c)}-{w}" for c, _, w in CASES]
)
def test_no_command_shows_the_password(
    migrated: tuple[Path, str], cluster: Settings, command: tuple[str, ...], code: int, where: str
) -> None:
    root, database = migrated
    env = _url_env(cluster, database, str(cluster.data_dir), where)
    result = inv(root, *command, env=env)
    assert result.returncode == code, output(result)  # it connected: the password was used
    assert not leaked(output(result), HOSTILE_PASSWORD), output(result)


def test_health_json_says_healthy_with_a_query_password(
    migrated: tuple[Path, str], cluster: Settings
) -> None:
    root, database = migrated
    env = _url_env(cluster, database, str(cluster.data_dir), "query")
    report = json.loads(inv(root, "db.health", "--json", env=env).stdout)
    assert report["healthy"] is True
    assert "password" not in report["url"] or "password=***" in report["url"]


@pytest.mark.parametrize(
    "password", ["Hunter2pa55@Tr0ub4dor", "Tr0ub4dor@Hunter2pa55@x", "Hunter2pa55Tr0ub4dor"]
)
def test_host_not_found_never_shows_the_password(tmp_path: Path, password: str) -> None:
    # An unencoded "@" makes parsers disagree on where the host starts; without "@" at all
    # nothing says the text after the colon is a password.
    at = "@" if "@" in password else "/"
    url = f"postgresql://admin:{password}{at}{REMOTE}:5432/app"
    env = clean_environ(DATABASE_URL=url, DB_HEALTH_TIMEOUT="1")
    result = inv(tasks_project(tmp_path), "db.health", env=env, netns=True)
    assert result.returncode in (1, 2), output(result)
    assert not leaked(output(result), password), output(result)
