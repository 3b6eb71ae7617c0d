"""`inv db.squash` on a generated Supabase-style history that has every habit a squash can
lose: enums (a value added later), functions, triggers (one on `auth.users`), row-level
security and policies, grants (one on a table the baseline provides), an extension, a
role, default privileges, a view, a used sequence and data migrations (rows in the
history's own tables and in `auth.users`). The squash proves its baseline equal; a fresh
database built from it equals one built by the old history; databases at a replaced
revision, at REV and behind a pruned squash point each get what they need."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from dbtasks import pg
from dbtasks.catalog.fingerprint import Fingerprint, fingerprint, fingerprint_diff
from dbtasks.settings import Settings
from tests.projects import ScratchProject, make_project, revision_text

pytestmark = pytest.mark.integration

USER = "00000000-0000-0000-0000-000000000001"


def sql(*statements: str) -> str:
    """Revision body lines: one op.execute per statement."""
    return "\n    ".join(f"op.execute({s!r})" for s in statements)


def history(role: str) -> list[tuple[str, str, str]]:
    """(id, upgrade, downgrade) of r001..r005; a squash up to r004 keeps r005."""
    return [
        ("r001", sql(
            "CREATE TYPE mood AS ENUM ('low', 'high')",
            "CREATE TABLE profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), "
            "name text NOT NULL, mood mood DEFAULT 'low')",
            "CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO settings VALUES ('theme', 'dark')",
        ), sql("DROP TABLE settings", "DROP TABLE profiles", "DROP TYPE mood")),
        ("r002", sql(
            "ALTER TYPE mood ADD VALUE 'mid' BEFORE 'high'",
            "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN NEW.name := trim(NEW.name); RETURN NEW; END$$",
            "CREATE TRIGGER profiles_touch BEFORE INSERT OR UPDATE ON profiles "
            "FOR EACH ROW EXECUTE FUNCTION app.touch()",
            "ALTER TABLE profiles ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY own_profile ON profiles FOR ALL TO authenticated "
            "USING (id = auth.uid()) WITH CHECK (id = auth.uid())",
            "GRANT SELECT, UPDATE ON profiles TO authenticated",
            "GRANT USAGE ON SCHEMA app TO authenticated",
        ), "pass"),
        ("r003", sql(
            "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions",
            "ALTER TABLE settings ADD COLUMN label extensions.citext",
            "CREATE FUNCTION app.handle_new_user() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = '' AS $$BEGIN INSERT INTO app.profiles "
            "(id, name) VALUES (NEW.id, coalesce(NEW.email, 'someone')); RETURN NEW; END$$",
            "CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users "
            "FOR EACH ROW EXECUTE FUNCTION app.handle_new_user()",
            f"INSERT INTO auth.users (id, email) VALUES ('{USER}', 'seed@example.com')",
            "GRANT SELECT ON auth.users TO authenticated",
            "CREATE SEQUENCE app.ticket START 100",
            "SELECT nextval('app.ticket')",
            "SELECT nextval('app.ticket')",
            "CREATE VIEW app.named AS SELECT id, name FROM app.profiles",
        ), "pass"),
        ("r004", sql(
            # As a history must that runs on more than one database of a server.
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END$$",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA app TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO {role}",
            "UPDATE settings SET value = 'light' WHERE key = 'theme'",
        ), "pass"),
        ("r005", sql("ALTER TABLE settings ADD COLUMN note text"),
         sql("ALTER TABLE settings DROP COLUMN note")),
    ]  # fmt: skip


@pytest.fixture
def squashable(tmp_path: Path, cluster: Settings) -> ScratchProject:
    project = make_project(tmp_path, cluster)
    project.env["DB_BASELINE"] = "supabase"
    role = f"reader_{uuid.uuid4().hex[:8]}"
    previous = None
    for i, (rev, up, down) in enumerate(history(role), start=1):
        text = revision_text(rev, previous, up, down, second=i)
        (project.versions / f"{i:03d}_{rev}.py").write_text(text)
        previous = rev
    return project


def ok(result: object) -> str:
    assert getattr(result, "returncode", None) == 0, (
        f"exit {getattr(result, 'returncode', None)}\n{getattr(result, 'stdout', '')}\n"
        f"{getattr(result, 'stderr', '')}"
    )
    assert "Traceback" not in getattr(result, "stderr", "")
    return str(getattr(result, "stdout", ""))


def new_database(project: ScratchProject) -> str:
    return f"{project.env['DB_NAME']}_{uuid.uuid4().hex[:6]}"


def built_at(project: ScratchProject, revision: str) -> str:
    name = new_database(project)
    ok(project.inv("db.upgrade", "-r", revision, DB_NAME=name))
    return name


def printed(cluster: Settings, database: str) -> Fingerprint:
    """The fingerprint of a database built on its own: rows are counted, not hashed, since
    two builds at different times differ in what `now()` wrote (the proof inside the squash
    compares contents: its baseline carries the replayed rows as they are)."""
    with pg.session(cluster.endpoint, database) as cur:
        found = fingerprint(cur)
    return replace(found, rows={k: v.split(",")[0] for k, v in found.rows.items()})


def version(cluster: Settings, database: str) -> list[str]:
    with pg.session(cluster.endpoint, database) as cur:
        cur.execute("SELECT version_num FROM app.alembic_version")
        return sorted(str(r[0]) for r in cur.fetchall())


def squash(project: ScratchProject, upto: str = "r004") -> str:
    return ok(project.inv("db.squash", "--upto", upto))


def test_squash_proves_and_a_fresh_build_equals_the_old_history(
    squashable: ScratchProject, cluster: Settings
) -> None:
    old_head = built_at(squashable, "heads")
    out = squash(squashable)
    assert "fingerprints equal" in out and "replacing 4 revisions" in out
    files = [p.name for p in squashable.revision_files()]
    assert files == ["004_r004_squashed.py", "005_r005.py"]  # where REV's file sorted
    text = (squashable.versions / files[0]).read_text()
    assert "revision = 'r004'" in text and "down_revision = None" in text
    assert "'r001'," in text and "'r003'," in text  # it names what it replaces
    assert 'INSERT INTO "auth"."users"' in text  # the data migration's row, carried
    assert "CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users" in text
    assert 'CREATE EXTENSION IF NOT EXISTS "citext"' in text
    assert sorted(p.name for p in (squashable.versions / "replaced_by_r004").glob("*.py")) == [
        "001_r001.py", "002_r002.py", "003_r003.py", "004_r004.py",
    ]  # fmt: skip

    fresh = new_database(squashable)
    upgraded = ok(squashable.inv("db.upgrade", DB_NAME=fresh))
    assert "[2/2] applied" in upgraded
    assert version(cluster, fresh) == ["r005"]
    different = fingerprint_diff(printed(cluster, old_head), printed(cluster, fresh))
    assert different == [], "\n".join(different)

    history_json = json.loads(ok(squashable.inv("db.history", "--json", DB_NAME=fresh)))
    assert [row["id"] for row in history_json] == ["r005", "r004"]
    assert json.loads(ok(squashable.inv("db.status", "--json", DB_NAME=fresh)))["at_head"]


def test_databases_at_rev_at_a_replaced_revision_and_behind_a_pruned_squash(
    squashable: ScratchProject, cluster: Settings
) -> None:
    at_rev, at_r002, at_r001 = (built_at(squashable, r) for r in ("r004", "r002", "r001"))
    old_head = built_at(squashable, "heads")
    squash(squashable)

    # At REV: the baseline has its id; the database goes on as before.
    assert "[1/1] applied" in ok(squashable.inv("db.upgrade", DB_NAME=at_rev))
    assert version(cluster, at_rev) == ["r005"]

    # At a replaced revision: db.upgrade refuses, the catch-up runs the old files to REV.
    refused = squashable.inv("db.upgrade", DB_NAME=at_r002)
    assert refused.returncode == 1 and "r002" in refused.stderr
    assert "replaced" in refused.stderr and "inv db.squash --catch-up" in refused.stderr
    caught_up = ok(squashable.inv("db.squash", "--catch-up", DB_NAME=at_r002))
    assert "2 replaced revision(s) to reach r004" in caught_up and "inv db.upgrade" in caught_up
    assert version(cluster, at_r002) == ["r004"]
    ok(squashable.inv("db.upgrade", DB_NAME=at_r002))
    # r004 was applied from its old file here: no edit of the baseline that took its id.
    status = squashable.inv("db.status", "--json", DB_NAME=at_r002)
    assert json.loads(ok(status))["edited"] == [], status.stdout
    different = fingerprint_diff(printed(cluster, old_head), printed(cluster, at_r002))
    assert different == [], "\n".join(different)

    # Prune: only with --past, and only when each database named is past REV.
    assert squashable.inv("db.squash", "--prune", "--yes").returncode == 2
    behind = squashable.inv("db.squash", "--prune", "--past", at_r001, "--yes")
    assert behind.returncode == 4 and at_r001 in behind.stderr and "--catch-up" in behind.stderr
    assert (squashable.versions / "replaced_by_r004").is_dir()
    pruned = ok(
        squashable.inv("db.squash", "--prune", "--past", at_rev, "--past", at_r002, "--yes")
    )
    assert "pruned 4 replaced revision files" in pruned
    assert not (squashable.versions / "replaced_by_r004").exists()

    # Behind a pruned squash point: refused, with the command that brings the files back.
    stuck = squashable.inv("db.squash", "--catch-up", DB_NAME=at_r001)
    assert stuck.returncode == 4, stuck.stderr
    assert "git checkout" in stuck.stderr and "replaced_by_r004" in stuck.stderr
    assert "inv db.squash --catch-up" in stuck.stderr


def test_validate_proves_the_squash_again_and_catches_an_edited_baseline(
    squashable: ScratchProject,
) -> None:
    squash(squashable)
    result = squashable.inv("db.validate", "--json", "--only", "squash", "--only", "graph")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.returncode == 0, result.stdout
    assert checks["squash"]["level"] == "pass" and checks["graph"]["level"] == "pass"

    baseline = squashable.versions / "004_r004_squashed.py"
    edited = baseline.read_text() + '\nUPGRADE += "DELETE FROM app.settings;"\n'
    baseline.write_text(edited)
    result = squashable.inv("db.validate", "--json", "--only", "squash")
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.returncode == 3
    finding = checks["squash"]["findings"][0]
    assert finding["revision"] == "r004" and "rows of app.settings" in finding["message"]


def test_a_table_in_a_provided_schema_is_flagged_and_nothing_is_written(
    tmp_path: Path, cluster: Settings
) -> None:
    project = make_project(tmp_path, cluster)
    project.env["DB_BASELINE"] = "supabase"
    name = f"audit_{uuid.uuid4().hex[:6]}"
    (project.versions / "001_a.py").write_text(
        revision_text("a", None, sql("CREATE TABLE t (i int)"))
    )
    (project.versions / "002_b.py").write_text(
        revision_text("b", "a", sql(f"CREATE TABLE auth.{name} (i int)"))
    )
    before = sorted(p.read_bytes() for p in project.versions.rglob("*.py"))
    result = project.inv("db.squash", "--upto", "b")
    assert result.returncode == 3, result.stderr
    assert f"auth.{name}" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.read_bytes() for p in project.versions.rglob("*.py")) == before


def test_bad_input_is_one_line_exit_2(squashable: ScratchProject) -> None:
    for args, words in (
        ((), "--upto REV, --catch-up or --prune"),
        (("--upto", "r004", "--prune"), "not --upto and --prune together"),
        (("--upto", "nope"), "nope"),
        (("--upto", "r001"), "nothing to squash"),
    ):
        result = squashable.inv("db.squash", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_mindmirror_squashes_and_rebuilds_identically(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster, with_mindmirror=True)
    old = built_at(project, "heads")
    squash(project, "head")
    fresh = built_at(project, "heads")
    different = fingerprint_diff(printed(cluster, old), printed(cluster, fresh))
    assert different == [], "\n".join(different)
    # Every check of db.validate passes on the squashed history, the squash check included.
    result = project.inv("db.validate", "--json", DB_NAME=fresh)
    report = json.loads(result.stdout)
    assert result.returncode == 0, json.dumps(report, indent=1)
    assert [c["check"] for c in report["checks"]][-1] == "squash"
