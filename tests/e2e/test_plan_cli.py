"""`inv db.plan` and `db.upgrade --plan` from the command line: table, JSON, Markdown,
--fail-on's exit 3, bad flags' exit 2, no consent without --yes (exit 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.integration.test_plan_trace import TABLE, TEMPLATE, TIMEOUT
from tests.projects import ScratchProject, make_project

pytestmark = pytest.mark.e2e


def write(project: ScratchProject, order: int, rev: str, down: str | None, up: str) -> None:
    text = TEMPLATE.format(rev=rev, down=down, up=up, down_body="    pass")
    (project.versions / f"{order:03d}_{rev}.py").write_text(text)


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """At b000 (a table `t`); pending: a safe column (with lock_timeout), then an index
    built without CONCURRENTLY and without lock_timeout."""
    project = make_project(tmp_path, cluster)
    write(project, 0, "b000", None, f'    op.execute("CREATE TABLE t ({TABLE})")')
    write(project, 1, "r001", "b000", TIMEOUT + '    op.add_column("t", sa.Column("m", sa.Text))')
    write(project, 2, "r002", "r001", '    op.create_index("ix_t_n", "t", ["n"])')
    assert project.inv("db.upgrade", "-r", "b000").returncode == 0
    return project


def test_the_plan_is_a_table_per_revision(project: ScratchProject) -> None:
    result = project.inv("db.plan")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "r001 r001 (alembic/versions/001_r001.py): risk none" in out
    assert "r002 r002 (alembic/versions/002_r002.py): risk medium" in out
    assert "statement" in out and "blocks" in out and "SHARE app.t" in out
    assert "index-not-concurrent (eugene E6" in out and "postgresql_concurrently=True" in out
    assert "2 revision(s) planned" in out and "Traceback" not in result.stderr


def test_json_says_the_same_for_machines(project: ScratchProject) -> None:
    result = project.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["risk"] == "medium" and found["current"] == ["b000"]
    first, second = found["revisions"]
    assert (first["id"], first["risk"], second["id"], second["risk"]) == (
        "r001",
        "none",
        "r002",
        "medium",
    )
    (index,) = [s for s in second["statements"] if "CREATE INDEX" in s["sql"]]
    assert {"relation": "app.t", "kind": "table", "mode": "ShareLock", "observed": True} in index[
        "locks"
    ]
    assert {h["code"] for h in index["hints"]} == {"index-not-concurrent", "no-lock-timeout"}
    assert first["downgrade"]["shape"] == "empty" and first["downgrade"]["ran"] is True


def test_fail_on_exits_3_at_or_above_the_threshold(project: ScratchProject) -> None:
    assert project.inv("db.plan", "--fail-on", "high").returncode == 0
    failed = project.inv("db.plan", "--fail-on", "medium")
    assert failed.returncode == 3
    assert "error: the plan's risk is medium (--fail-on medium)" in failed.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--fail-on", "severe"), "--fail-on 'severe': choose high, medium or low"),
        (("--downgrade",), "--downgrade needs the revision to go down to"),
        (("-r", "nosuch"), "nosuch"),
    ],
)
def test_bad_input_is_exit_2_in_one_line(
    project: ScratchProject, args: tuple[str, ...], said: str
) -> None:
    result = project.inv("db.plan", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert said in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_markdown_is_a_pull_request_comment(project: ScratchProject) -> None:
    result = project.inv("db.plan", "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### 🟠 `db.plan`: upgrade of 2 revision(s), risk **medium**")
    assert (
        "| statement | lock | blocks | rewrite | rows | size | time | risk | hint |"
        in result.stdout
    )
    assert "- **index-not-concurrent** (eugene E6" in result.stdout


def test_a_rollback_plan_names_what_it_loses(project: ScratchProject) -> None:
    assert project.inv("db.upgrade").returncode == 0
    result = project.inv("db.plan", "--downgrade", "-r", "b000", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["direction"] == "downgrade"
    assert [r["id"] for r in found["revisions"]] == ["r002", "r001"]


def test_upgrade_with_plan_asks_and_refuses_without_yes(project: ScratchProject) -> None:
    refused = project.inv("db.upgrade", "--plan")
    assert refused.returncode == 4, refused.stderr
    assert "index-not-concurrent" in refused.stdout
    assert "without --yes" in refused.stderr
    status = json.loads(project.inv("db.status", "--json").stdout)
    assert status["current"] == ["b000"]
    applied = project.inv("db.upgrade", "--plan", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(project.inv("db.status", "--json").stdout)["current"] == ["r002"]


def test_validate_runs_the_plan_check_on_request(project: ScratchProject) -> None:
    result = project.inv("db.validate", "--json", "--only", "plan")
    (check,) = json.loads(result.stdout)["checks"]
    assert result.returncode == 0 and check["check"] == "plan" and check["level"] == "warn"
    assert [f["revision"] for f in check["findings"]] == ["r002"]
    default = json.loads(project.inv("db.validate", "--json", "--skip", "lint").stdout)
    assert "plan" not in [c["check"] for c in default["checks"]]


def test_mindmirror_plans(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    assert project.inv("db.upgrade", "-r", "5b9e0513058e").returncode == 0  # the first
    result = project.inv("db.plan", "--json")
    assert result.returncode == 0, result.stderr
    (pending,) = json.loads(result.stdout)["revisions"]
    assert pending["error"] is None and pending["statements"]
