"""Bad settings (environment, `.env`, pyproject.toml) and flag values, across the tasks.

Every case carries the hostile password somewhere it could leak from: in the project's
DB_PASS always, and inside the malformed DATABASE_URLs themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project
from tests.reliability.corpus import Case, case, params, run_all
from tests.reliability.outcome import Outcome
from tests.support import free_port

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

URL = "postgresql://postgres:{pw_url}@127.0.0.1:{port}/{db}"
MALFORMED = "DATABASE_URL is malformed"

ENVIRONMENT = [
    case("url-bare-word", "db.status", code=2, needle=MALFORMED, DATABASE_URL="mindmirror"),
    case("url-is-the-password", "db.upgrade", code=2, needle=MALFORMED, DATABASE_URL="{pw}"),
    case(
        "url-bad-key",
        "db.health",
        code=2,
        needle=MALFORMED,
        DATABASE_URL="hots=127.0.0.1 dbname={db} password='{pw}'",
    ),
    case(
        "url-query-host",
        "db.history",
        code=2,
        needle="host",
        DATABASE_URL=URL + "?host=db.example.invalid",
    ),
    case(
        "url-unencoded-at",
        "stack.status",
        code=2,
        needle=MALFORMED,
        DATABASE_URL="postgresql://postgres:{pw_at}@127.0.0.1:{port}/{db}",
    ),
    case("url-scheme", "db.heads", code=2, needle="scheme", DATABASE_URL="mysql://u:{pw_url}@h/d"),
    case(
        "url-port",
        "stack.up",
        code=2,
        needle="port",
        DATABASE_URL="postgresql://postgres:{pw_url}@127.0.0.1:99999/{db}",
    ),
    case("port-word", "db.status", code=2, needle="DB_PORT", DB_PORT="fivefour"),
    case("port-range", "stack.up", code=2, needle="DB_PORT", DB_PORT="70000"),
    case("backend", "db.health", code=2, needle="DB_BACKEND", DB_BACKEND="podman"),
    case("lock", "db.upgrade", code=2, needle="DB_LOCK", DB_LOCK="maybe"),
    case(
        "health-timeout-word",
        "db.health",
        code=2,
        needle="DB_HEALTH_TIMEOUT",
        DB_HEALTH_TIMEOUT="soon",
    ),
    case(
        "health-timeout-negative",
        "stack.up",
        code=2,
        needle="DB_HEALTH_TIMEOUT",
        DB_HEALTH_TIMEOUT="-1",
    ),
    case("lock-timeout-zero", "db.upgrade", code=2, needle="DB_LOCK_TIMEOUT", DB_LOCK_TIMEOUT="0"),
    case(
        "native-user", "stack.up", code=2, needle="DB_NATIVE_USER", DB_NATIVE_USER="no_such_user_zz"
    ),
    case("name-empty", "db.status", code=2, needle="DB_NAME", DB_NAME=""),
    case("name-too-long", "db.upgrade", code=2, needle="63", DB_NAME="n" * 64),
    case("name-template", "db.upgrade", code=2, needle="template1", DB_NAME="template1"),
    case("schema-managed", "db.history", code=2, needle="DB_SCHEMA", DB_SCHEMA="auth"),
    case("user-native", "stack.status", code=2, needle="DB_USER", DB_USER="pg_evil"),
    case("lines-not-a-number", "stack.logs", "--lines", "abc", code=2, needle="--lines"),
    case("host-several", "db.status", code=2, needle="DB_HOST", DB_HOST="127.0.0.1,127.0.0.2"),
]

# Cases that need a file in the project: name -> (file, its text)
FILES = {
    "dotenv-bad-line": (".env", "this line is no setting\n"),
    "dotenv-open-quote": (".env", "DB_PASS='{pw}\n"),
    "pyproject-unknown-key": ("pyproject.toml", "[tool.dbtasks]\nprot = 5432\n"),
    "pyproject-not-toml": ("pyproject.toml", "[tool.dbtasks\nport = 5432\n"),
    "data-dir-is-a-file": ("pgdata-file", "not a directory\n"),
}
WITH_FILES = [
    case("dotenv-bad-line", "db.status", code=2, needle=".env line 1"),
    case("dotenv-open-quote", "db.upgrade", code=2, needle=".env line 1"),
    case("pyproject-unknown-key", "stack.logs", code=2, needle="did you mean port"),
    case("pyproject-not-toml", "db.heads", code=2, needle="pyproject.toml"),
    case("data-dir-is-a-file", "stack.up", code=2, needle="is a file"),
]
CASES = ENVIRONMENT + WITH_FILES


def _project(root: Path, cluster: Settings, name: str) -> ScratchProject:
    project = make_project(root, cluster)
    if name in FILES:
        filename, text = FILES[name]
        (root / filename).write_text(text.replace("{pw}", project.env["DB_PASS"]))
    if name == "data-dir-is-a-file":
        project.env["DB_DATA_DIR"] = str(root / "pgdata-file")
    if name.startswith("dotenv"):
        del project.env["DB_PASS"]  # so that .env is where the password comes from
    # A case that wrongly got past its bad setting finds nothing listening (and exits 1,
    # failing its test) rather than a database it could change.
    project.env["DB_PORT"] = str(free_port())
    return project


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, cluster: Settings) -> dict[str, Outcome]:
    projects = {c.name: _project(tmp_path_factory.mktemp(c.name), cluster, c.name) for c in CASES}
    return run_all(CASES, lambda c: projects[c.name])


@pytest.mark.parametrize("bad", params(CASES))
def test_bad_setting(outcomes: dict[str, Outcome], bad: Case) -> None:
    bad.check(outcomes[bad.name])
