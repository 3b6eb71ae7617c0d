"""The structured log through the real `inv`: one JSON object per line, an event per
revision, and no password whatever channel it came in by."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.support import HOSTILE_PASSWORD

pytestmark = pytest.mark.integration


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    made = make_project(tmp_path, cluster)
    made.env.update(DB_LOG_FILE="deploy.log", DB_LOG_FORMAT="json")
    return made


def records(project: ScratchProject) -> list[dict[str, object]]:
    lines = (project.root / "deploy.log").read_text().splitlines()
    return [json.loads(line) for line in lines]  # every line parses


def assert_no_password(project: ScratchProject, *outputs: str) -> None:
    text = (project.root / "deploy.log").read_text() + "".join(outputs)
    for form in (HOSTILE_PASSWORD, quote(HOSTILE_PASSWORD, safe=""), quote(HOSTILE_PASSWORD)):
        assert form not in text


def run(project: ScratchProject, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = project.inv(*args, **env)
    assert "Traceback" not in result.stderr
    return result


def test_every_applied_revision_is_an_event_with_a_duration(project: ScratchProject) -> None:
    write_chain(project.versions, 5)
    assert run(project, "db.upgrade").returncode == 0
    found = records(project)
    applied = [r for r in found if r["event"] == "revision.applied"]
    assert [r["revision"] for r in applied] == ["r001", "r002", "r003", "r004", "r005"]
    assert all(float(str(r["duration_ms"])) >= 0 and r["task"] == "db.upgrade" for r in applied)
    events = {str(r["event"]) for r in found}
    assert {"task.start", "task.end", "settings", "guard.allowed", "lock.acquired"} <= events
    assert all({"time", "level", "logger", "event", "task"} <= set(r) for r in found)
    end = next(r for r in found if r["event"] == "task.end")
    assert end["exit_code"] == 0 and "***" in str(end["target"])
    assert any(str(r["logger"]).startswith("alembic") for r in found)
    assert_no_password(project)


def test_failures_and_refusals_are_logged_without_tracebacks(project: ScratchProject) -> None:
    write_chain(project.versions, 2, fail_at=2)
    failed = run(project, "db.upgrade")
    assert failed.returncode == 1
    refused = run(project, "db.reset")
    assert refused.returncode == 4
    found = records(project)
    assert any(r["event"] == "revision.failed" and r["revision"] == "r002" for r in found)
    errors = [r for r in found if r["event"] == "task.error"]
    assert [r["exit_code"] for r in errors] == [1, 4]
    assert not any("traceback" in r for r in found)
    assert any(r["event"] == "guard.refused" for r in found)


def test_tracebacks_only_at_debug(project: ScratchProject) -> None:
    write_chain(project.versions, 1, fail_at=1)
    run(project, "db.upgrade", DB_LOG_LEVEL="DEBUG")
    errors = [r for r in records(project) if r["event"] == "task.error"]
    assert "traceback" in errors[0]
    assert_no_password(project)


@pytest.mark.parametrize(
    "channel",
    ["userinfo", "query", "seed error", "error echoing the URL"],
)
def test_password_never_reaches_the_log(project: ScratchProject, channel: str) -> None:
    write_chain(project.versions, 1)
    env = project.env
    url = (
        f"postgresql://{env['DB_USER']}:{quote(HOSTILE_PASSWORD, safe='')}@"
        f"{env['DB_HOST']}:{env['DB_PORT']}/{env['DB_NAME']}"
    )
    if channel == "userinfo":
        result = run(project, "db.upgrade", DATABASE_URL=url)
    elif channel == "query":
        user = url.split("@")[1]
        query_url = (
            f"postgresql://{env['DB_USER']}@{user}?password={quote(HOSTILE_PASSWORD, safe='')}"
        )
        result = run(project, "db.status", DATABASE_URL=query_url, DB_BACKEND="native")
    elif channel == "seed error":
        (project.root / "seeds").mkdir()
        (project.root / "seeds" / "001.sql").write_text(f"SELECT '{HOSTILE_PASSWORD}' + 1;\n")
        result = run(project, "db.seed")
        assert result.returncode == 1
    else:
        echo = "raise RuntimeError(op.get_bind().engine.url.render_as_string(False))"
        (project.versions / "001_r001.py").write_text(
            (project.versions / "001_r001.py")
            .read_text()
            .replace("def upgrade() -> None:\n", f"def upgrade() -> None:\n    {echo}\n")
        )
        result = run(project, "db.upgrade")
        assert result.returncode == 1
    assert (project.root / "deploy.log").read_text()
    assert_no_password(project, result.stdout, result.stderr)
