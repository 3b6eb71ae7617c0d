"""Alembic parity through the real `inv`: heads, merge, stamp, show, relative targets,
idempotent onboarding and the timing history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, revision_text, write_chain
from tests.support import free_port, scratch_dir

pytestmark = pytest.mark.e2e


@pytest.fixture
def chain(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def branch(project: ScratchProject, rev: str, down: str) -> None:
    up, back = f'op.execute("CREATE TABLE {rev} (id int)")', f'op.execute("DROP TABLE {rev}")'
    text = revision_text(rev, down, up, back, message=f"branch {rev}")
    (project.versions / f"x_{rev}.py").write_text(text)


def tables(project: ScratchProject) -> set[str]:
    found = project.query("SELECT tablename FROM pg_tables WHERE schemaname = 'app'")
    return {str(r[0]) for r in found}


def test_two_branches_merge_and_upgrade(chain: ScratchProject) -> None:
    write_chain(chain.versions, 1)
    branch(chain, "b1", "r001")
    branch(chain, "c1", "r001")
    ok(chain.inv("stack.up"))
    heads = json.loads(ok(chain.inv("db.heads", "--json")))
    assert {h["id"] for h in heads} == {"b1", "c1"}
    assert all(h["state"] == "pending" for h in heads)
    out = ok(chain.inv("db.merge", "-m", "join branches"))
    assert "joining b1, c1" in out or "joining c1, b1" in out
    merged = [p for p in chain.revision_files() if "join_branches" in p.name]
    assert len(merged) == 1
    assert len(json.loads(ok(chain.inv("db.heads", "--json")))) == 1
    ok(chain.inv("db.upgrade"))
    assert {"b1", "c1"} <= tables(chain)
    again = ok(chain.inv("db.merge"))
    assert "only one head" in again
    assert len(chain.revision_files()) == 4


def test_stamp_moves_the_version_table_only(chain: ScratchProject) -> None:
    write_chain(chain.versions, 3)
    ok(chain.inv("db.upgrade"))
    before = tables(chain)
    refused = chain.inv("db.stamp", "base")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    ok(chain.inv("db.stamp", "base", "--yes"))
    assert chain.query("SELECT count(*) FROM app.alembic_version") == [(0,)]
    assert tables(chain) == before
    ok(chain.inv("db.stamp", "heads", "--yes"))
    assert chain.query("SELECT version_num FROM app.alembic_version") == [("r003",)]
    assert tables(chain) == before


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("db.upgrade", "-r", "+1")], ["r001"]),
        ([("db.upgrade", "-r", "+2")], ["r001", "r002"]),
        ([("db.upgrade", "-r", "r001+1")], ["r001", "r002"]),
        ([("db.upgrade", "-r", "head")], ["r001", "r002", "r003", "r004"]),
        ([("db.upgrade",), ("db.downgrade", "-2", "--yes")], ["r001", "r002"]),
        ([("db.upgrade",), ("db.downgrade", "head", "--yes")], ["r001", "r002", "r003", "r004"]),
        ([("db.upgrade",), ("db.downgrade", "r003-1", "--yes")], ["r001", "r002"]),
    ],
)
def test_relative_targets(
    chain: ScratchProject, steps: list[tuple[str, ...]], expected: list[str]
) -> None:
    write_chain(chain.versions, 4)
    for step in steps:
        ok(chain.inv(*step))
    assert [str(r[0]) for r in chain.query("SELECT rev FROM app.applied_log ORDER BY 1")] == (
        expected
    )


@pytest.mark.parametrize(
    "step",
    [("db.upgrade", "-r", "+3"), ("db.downgrade", "-3", "--yes"), ("db.downgrade", "+1", "--yes")],
)
def test_a_relative_target_past_the_history_says_so(
    chain: ScratchProject, step: tuple[str, ...]
) -> None:
    write_chain(chain.versions, 2)
    ok(chain.inv("db.upgrade", "-r", "r001"))
    result = chain.inv(*step)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "revision(s) to move that way" in result.stderr, result.stderr
    assert "didn't produce" not in result.stderr


def test_an_unknown_branch_label_is_named(chain: ScratchProject) -> None:
    write_chain(chain.versions, 1)
    result = chain.inv("db.upgrade", "-r", "nolabel@head")
    assert result.returncode == 2, result.stderr
    assert "unknown branch label 'nolabel'" in result.stderr, result.stderr


def test_show(chain: ScratchProject) -> None:
    write_chain(chain.versions, 2)
    ok(chain.inv("db.upgrade", "-r", "r001"))
    shown = json.loads(ok(chain.inv("db.show", "r001", "--json")))
    assert shown["children"] == ["r002"] and shown["state"] == "current"
    assert json.loads(ok(chain.inv("db.show", "head", "--json")))["state"] == "pending"
    sql = ok(chain.inv("db.show", "r002", "--sql"))
    assert "CREATE TABLE t002" in sql and "CREATE TABLE t001" not in sql
    unknown = chain.inv("db.show", "r0002")
    assert unknown.returncode == 2 and "did you mean" in unknown.stderr


def test_timings_cover_every_applied_revision(chain: ScratchProject) -> None:
    write_chain(chain.versions, 3, fail_at=3)
    assert chain.inv("db.upgrade").returncode == 1
    entries = json.loads(ok(chain.inv("db.history", "--timings", "--json")))
    assert [(e["revision"], e["outcome"]) for e in entries] == [
        ("r001", "applied"),
        ("r002", "applied"),
        ("r003", "failed"),
    ]
    assert all(e["duration_ms"] >= 0 and e["checksum"].startswith("ast1:") for e in entries)
    ok(chain.inv("db.downgrade", "base", "--yes"))
    entries = json.loads(ok(chain.inv("db.history", "--timings", "--json")))
    assert [e["outcome"] for e in entries[-2:]] == ["undone", "undone"]


def test_prepare_three_times_from_no_cluster(tmp_path: Path, cluster: Settings) -> None:
    with scratch_dir("prepare") as own:
        project = make_project(tmp_path, cluster, with_mindmirror=True)
        project.env["DB_DATA_DIR"] = str(own / "pgdata")
        project.env["DB_PORT"] = str(free_port())
        _prepare_three_times(project)


def _prepare_three_times(project: ScratchProject) -> None:
    try:
        first = ok(project.inv("db.prepare"))
        assert "created a PostgreSQL" in first and "seeded from" in first
        count = project.query("SELECT count(*) FROM app.profiles")
        assert int(str(count[0][0])) > 0
        for _ in range(2):
            again = ok(project.inv("db.prepare"))
            assert "up to date" in again and "seeded" not in again
        assert project.query("SELECT count(*) FROM app.profiles") == count
    finally:
        project.inv("stack.down", "--destroy", "--yes")


@pytest.mark.parametrize("task", [("db.status",), ("db.upgrade",)])
def test_nothing_to_do_imports_neither_alembic_nor_sqlalchemy(
    chain: ScratchProject, task: tuple[str, ...]
) -> None:
    """At head, with the graph cached, status and a no-op upgrade read the version table
    with psycopg2 alone: no revision file is loaded, no Alembic is imported."""
    import sys

    write_chain(chain.versions, 3)
    ok(chain.inv("db.upgrade"))  # builds the graph cache
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "invoke", *task],
        cwd=chain.root,
        env=chain.inv_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert not {m for m in imported if m.split(".")[0] in ("alembic", "sqlalchemy")}
    assert "r003" in result.stdout
