"""`inv db.validate` on broken histories: each fails with exit 3, naming its check and the
revision; MindMirror's history passes."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from dbtasks.settings import Settings
from tests.projects import SMALL_MODELS, ScratchProject, make_project, revision_text, write_chain

pytestmark = pytest.mark.e2e

# Lint has a suite of its own; these cases are about the other checks.
NO_LINT = ("--skip", "lint")


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


Checks = dict[str, dict[str, Any]]


def validate(project: ScratchProject, *args: str, lint: bool = False) -> tuple[int, Checks]:
    result = project.inv("db.validate", "--json", *(() if lint else NO_LINT), *args)
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {c["check"]: c for c in report["checks"]}


def failed(checks: Checks) -> dict[str, list[object]]:
    return {
        name: [f.get("revision") for f in c["findings"]]
        for name, c in checks.items()
        if c["level"] == "fail"
    }


def revision(project: ScratchProject, rev: str, down: str | None, up: str, back: str) -> None:
    (project.versions / f"x_{rev}.py").write_text(revision_text(rev, down, up, back))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mindmirror_history_passes(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    ok(project.inv("db.upgrade"))
    code, checks = validate(project, lint=True)
    assert code == 0, checks
    assert {c["level"] for c in checks.values()} == {"pass"}
    assert len(checks) == 7


def test_two_heads(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    revision(project, "b1", "r001", "pass", "pass")
    revision(project, "c1", "r001", "pass", "pass")
    code, checks = validate(project, "--only", "graph")
    assert code == 3 and "graph" in failed(checks)
    assert "2 heads" in str(checks["graph"]["findings"])


def test_missing_parent_names_the_file(project: ScratchProject) -> None:
    write_chain(project.versions, 1)
    revision(project, "b1", "gone", "pass", "pass")
    code, checks = validate(project)
    assert code == 3 and "graph" in failed(checks)
    assert "x_b1.py" in str(checks["graph"]["findings"])


def test_drift_from_a_new_model_column(project: ScratchProject) -> None:
    ok(project.inv("db.init"))
    project.write_models(
        SMALL_MODELS.replace(
            'Column("body", String(200), nullable=False))',
            'Column("body", String(200), nullable=False), Column("mood", Integer))',
        )
    )
    code, checks = validate(project, "--only", "drift")
    assert code == 3 and "drift" in failed(checks)
    assert "notes.mood" in str(checks["drift"]["findings"])
    assert "`inv db.revision` writes it" in str(checks["drift"]["findings"])


ENUM_MODELS = """
from sqlalchemy import Column, Enum, Integer, MetaData, Table

metadata = MetaData()
entries = Table("entries", metadata, Column("id", Integer, primary_key=True),
                Column("mood", Enum({values}, name="mood")))
"""


def test_new_enum_value_is_drift_and_revision_adds_it(project: ScratchProject) -> None:
    project.write_models(ENUM_MODELS.format(values='"good", "bad"'))
    ok(project.inv("db.init"))
    project.write_models(ENUM_MODELS.format(values='"good", "bad", "meh"'))
    code, checks = validate(project, "--only", "drift")
    assert code == 3 and "meh" in str(checks["drift"]["findings"])
    out = ok(project.inv("db.revision", "-m", "add meh"))
    assert "add enum values mood: meh" in out
    written = max(project.revision_files(), key=lambda p: p.stat().st_mtime).read_text()
    assert "autocommit_block" in written and "ADD VALUE IF NOT EXISTS 'meh'" in written
    ok(project.inv("db.upgrade"))
    code, checks = validate(project, "--only", "drift", "--only", "roundtrip")
    assert code == 0, checks


CLEAN_ROOT = (
    'op.execute("CREATE TABLE t1 (id int)")',
    'op.drop_table("t1")\n    op.drop_table("applied_log")',
)


def test_downgrade_that_leaves_a_table_behind(project: ScratchProject) -> None:
    revision(project, "r001", None, *CLEAN_ROOT)
    revision(project, "r002", "r001", 'op.execute("CREATE TABLE stays (id int)")', "pass")
    code, checks = validate(project, "--only", "roundtrip")
    assert code == 3 and failed(checks) == {"roundtrip": ["r002"]}
    assert "stays" in str(checks["roundtrip"]["findings"])


def test_irreversible_marker_skips_with_a_warning(project: ScratchProject) -> None:
    """The marked revision is not undone; the round trip goes on below it, from a database
    rebuilt without it."""
    revision(project, "r001", None, *CLEAN_ROOT)
    revision(project, "r002", "r001", 'op.execute("CREATE TABLE stays (id int)")', "pass")
    path = project.versions / "x_r002.py"
    path.write_text(path.read_text() + '\ndbtasks_irreversible = "data is gone"\n')
    code, checks = validate(project, "--only", "roundtrip")
    assert code == 0 and checks["roundtrip"]["level"] == "warn", checks
    (finding,) = checks["roundtrip"]["findings"]
    assert finding["revision"] == "r002" and "data is gone" in finding["message"]


def test_applied_file_edited_afterwards(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    ok(project.inv("db.upgrade"))
    first = project.versions / "001_r001.py"
    first.write_text(first.read_text().replace("CREATE TABLE t001", "CREATE TABLE t001x"))
    code, checks = validate(project, "--only", "checksums")
    assert code == 3 and failed(checks) == {"checksums": ["r001"]}
    status = json.loads(ok(project.inv("db.status", "--json")))
    assert status["edited"] == ["r001"]


def test_database_at_an_unknown_revision(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    ok(project.inv("db.upgrade"))
    (project.versions / "002_r002.py").unlink()
    code, checks = validate(project, "--only", "database")
    assert code == 3 and failed(checks) == {"database": ["r002"]}


def test_unknown_check_is_bad_input(project: ScratchProject) -> None:
    result = project.inv("db.validate", "--only", "speling")
    assert result.returncode == 2 and "there is no check 'speling'" in result.stderr


def scratch_place(project: ScratchProject, result: subprocess.CompletedProcess[str]) -> str:
    """Where validate said it made its scratch database (its DEBUG log event)."""
    assert "Traceback" not in result.stderr
    lines = (project.root / "validate.log").read_text().splitlines()
    (found,) = [json.loads(line) for line in lines if '"validate.scratch"' in line]
    return str(found["where"])


LOG = {"DB_LOG_FILE": "validate.log", "DB_LOG_FORMAT": "json", "DB_LOG_LEVEL": "DEBUG"}


def test_scratch_databases_are_dropped(project: ScratchProject) -> None:
    write_chain(project.versions, 2)
    # The configured database does not exist yet (a fresh CI server): still this server.
    result = project.inv("db.validate", "--json", *NO_LINT, "--only", "roundtrip", **LOG)
    assert scratch_place(project, result) == "server"
    settings = project.settings()
    # Only this project's scratch names: other tests share the cluster and its databases.
    pattern = settings.endpoint.database + "\\_validate\\_%"
    conn = psycopg2.connect(**settings.endpoint.connect_kwargs("postgres"))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", (pattern,))
        assert cur.fetchone() == (0,)
    conn.close()


def test_a_role_that_cannot_create_databases_gets_a_throwaway_cluster(
    project: ScratchProject,
) -> None:
    undo = 'op.drop_table("t1")\n    op.drop_table("applied_log")'
    revision(project, "r001", None, 'op.execute("CREATE TABLE t1 (id int)")', undo)
    role = f"nocreate_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**project.settings().endpoint.connect_kwargs("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'x-pass'")
    tmp = Path(tempfile.mkdtemp(prefix="validate-tmp-"))
    tmp.chmod(0o755)  # the server account reaches the cluster made below it
    try:
        result = project.inv(
            "db.validate",
            "--json",
            "--only",
            "roundtrip",
            DB_USER=role,
            DB_PASS="x-pass",
            TMPDIR=str(tmp),
            **LOG,
        )
        assert result.returncode == 0 and scratch_place(project, result) == "cluster"
        checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
        assert checks["roundtrip"]["level"] == "pass"
        assert list(tmp.iterdir()) == []  # the cluster is gone with its directory
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with admin.cursor() as cur:
            cur.execute(f"DROP ROLE {role}")
        admin.close()
