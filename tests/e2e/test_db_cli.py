"""The migration tasks through the real `inv` command, on the session cluster."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, write_chain
from tests.support import HOSTILE_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def mindmirror(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster, with_mindmirror=True)


@pytest.fixture
def chain_project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


def ok(result: object) -> str:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    output: str = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert HOSTILE_PASSWORD not in output and "Traceback" not in output
    return output


def test_everyday_flow(mindmirror: ScratchProject) -> None:
    ok(mindmirror.inv("db.init"))
    models = (mindmirror.root / f"{mindmirror.module}.py").read_text()
    mindmirror.write_models(
        models.replace(
            "    title: Mapped[str | None] = mapped_column(String(200))\n",
            "    title: Mapped[str | None] = mapped_column(String(200))\n"
            "    summary: Mapped[str | None] = mapped_column(Text)\n",
            1,
        )
    )
    before = set(mindmirror.revision_files())
    out = ok(mindmirror.inv("db.revision", "-m", "add summary"))
    new = set(mindmirror.revision_files()) - before
    assert len(new) == 1 and "add column agent_conversations.summary" in out
    body = new.pop().read_text()
    assert body.count("op.add_column(") == 1 and body.count("op.") == 2  # add + drop
    ok(mindmirror.inv("db.upgrade"))
    assert mindmirror.inv("db.status", "--check").returncode == 0
    ok(mindmirror.inv("db.downgrade", "-1", "--yes"))
    assert mindmirror.inv("db.status", "--check").returncode == 3
    history = json.loads(mindmirror.inv("db.history", "--json").stdout)
    # Newest first: then the repository's revisions, however many a developer has added
    # (theirs are older than this test's "add summary").
    states = [row["state"] for row in history]
    assert states[:2] == ["pending", "current"] and set(states[2:]) == {"applied"}
    assert history[0]["message"] == "add summary"


def test_revision_with_unchanged_models_writes_nothing(mindmirror: ScratchProject) -> None:
    ok(mindmirror.inv("db.init"))
    before = mindmirror.revision_files()
    assert "no file written" in ok(mindmirror.inv("db.revision", "-m", "nothing"))
    assert mindmirror.revision_files() == before


def test_init_twice_is_exit_1(mindmirror: ScratchProject) -> None:
    ok(mindmirror.inv("db.init"))
    again = mindmirror.inv("db.init")
    assert again.returncode == 1
    assert "already initialized at" in again.stderr and "inv db.upgrade" in again.stderr


def test_exit_codes(chain_project: ScratchProject) -> None:
    write_chain(chain_project.versions, 2)
    ok(chain_project.inv("db.upgrade"))
    refused = chain_project.inv("db.downgrade", "-1")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    assert chain_project.inv("db.status", "--check").returncode == 0
    unknown = chain_project.inv("db.downgrade", "r0002", "--yes")
    assert unknown.returncode == 2 and "did you mean" in unknown.stderr
    bad_message = chain_project.inv("db.revision", "-m", "")
    assert bad_message.returncode == 2
    assert len(bad_message.stderr.strip().splitlines()) == 1


def test_status_json(chain_project: ScratchProject) -> None:
    write_chain(chain_project.versions, 2)
    ok(chain_project.inv("db.upgrade", "-r", "r001"))
    report = json.loads(ok(chain_project.inv("db.status", "--json")).strip())
    assert report["current"] == ["r001"] and report["heads"] == ["r002"]
    assert [p["id"] for p in report["pending"]] == ["r002"]
    assert report["url"].startswith("postgresql://postgres:***@")


def test_upgrade_sql_prints_and_changes_nothing(chain_project: ScratchProject) -> None:
    write_chain(chain_project.versions, 2)
    ok(chain_project.inv("stack.up"))  # read-only commands never create the database
    out = ok(chain_project.inv("db.upgrade", "--sql"))
    assert "CREATE TABLE t002" in out
    status = json.loads(chain_project.inv("db.status", "--json").stdout)
    assert status["current"] == []


def test_eight_concurrent_upgrades_apply_each_revision_once(chain_project: ScratchProject) -> None:
    write_chain(chain_project.versions, 50)
    runs = [chain_project.popen("db.upgrade") for _ in range(8)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    conn = psycopg2.connect(**chain_project.settings().endpoint.connect_kwargs())
    with conn.cursor() as cur:
        cur.execute("SELECT rev, count(*) FROM app.applied_log GROUP BY rev")
        counts = dict(cur.fetchall())
        cur.execute("SELECT version_num FROM app.alembic_version")
        assert cur.fetchall() == [("r050",)]
    conn.close()
    assert len(counts) == 50 and set(counts.values()) == {1}
    # The others either waited while the first applied everything, or came after it.
    idle = ("another run applied them while this one waited", "already at head r050")
    assert sum(any(phrase in out for phrase in idle) for _, out, _ in results) == 7
