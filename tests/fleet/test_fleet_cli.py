"""`db.status` and `db.upgrade` over a fleet, end to end on real databases, each `inv` a
process of its own (the executor forks workers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from dbtasks.errors import ExitCode
from tests.fleet.conftest import TENANTS, Fleet
from tests.projects import INV, revision_text, write_chain

HEAD = "r003"


def test_status_all_shows_every_member_production_included(fleet: Fleet) -> None:
    shown = fleet.project.process("db.status", "--all", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = {row["member"]: row for row in json.loads(shown.stdout)}
    assert set(rows) == {"alpha", "beta", "prod", *(f"tenants/{t}" for t in TENANTS)}
    assert all(row["pending"] == 3 and row["state"] == "3 pending" for row in rows.values())
    assert rows["prod"]["role"] == "production"
    checked = fleet.project.process("db.status", "--group", "eu", "--check")
    assert checked.returncode == ExitCode.CHECK_FAILED
    assert "alpha" in checked.stdout and "prod" in checked.stdout


def test_upgrade_all_migrates_every_member_but_production(fleet: Fleet) -> None:
    done = fleet.project.process("db.upgrade", "--all", "--parallel", "3")
    assert done.returncode == 0, done.stderr
    assert fleet.versions("alpha") == fleet.versions("beta") == [HEAD]
    for tenant in TENANTS:  # each tenant schema keeps its own history
        assert fleet.versions("tenants", tenant) == [HEAD]
        sql = f"SELECT count(*) FROM pg_tables WHERE schemaname = '{tenant}'"
        tables = fleet.query("tenants", sql)
        assert tables == [(6,)]  # t001..t003, applied_log, alembic_version, the timing log
    assert fleet.versions("prod") == []
    assert "prod" not in fleet.states()
    assert set(fleet.states().values()) == {"committed"}
    password = fleet.project.env["DB_PASS"]
    assert password not in done.stdout + done.stderr
    again = fleet.project.process("db.upgrade", "--all")
    assert again.returncode == 0, again.stderr
    assert "0 to upgrade" in again.stdout


def test_production_runs_only_when_named_with_yes(fleet: Fleet) -> None:
    refused = fleet.project.process("db.upgrade", "--target", "prod")
    assert refused.returncode == ExitCode.REFUSED
    assert "--yes" in refused.stderr and fleet.versions("prod") == []
    done = fleet.project.process("db.upgrade", "--target", "prod", "--yes")
    assert done.returncode == 0, done.stderr
    assert fleet.versions("prod") == [HEAD]


def _break_tenant(fleet: Fleet, tenant: str) -> None:
    """r002 creates t002: a tenant that already has one fails at r002, after r001."""
    fleet.query("tenants", f"CREATE SCHEMA {tenant}; CREATE TABLE {tenant}.t002 (id int)")


def test_a_failing_tenant_stops_the_run_and_resume_finishes_it(fleet: Fleet) -> None:
    _break_tenant(fleet, "acme")
    failed = fleet.project.process("db.upgrade", "--target", "tenants", "--parallel", "1")
    assert failed.returncode == ExitCode.FAILED
    assert "tenants/acme" in failed.stderr and "not started" in failed.stderr
    members = fleet.ledger()["members"]
    assert members["tenants/acme"]["state"] == "failed"
    assert members["tenants/acme"]["current"] == ["r001"]  # what it committed before r002
    assert [members[f"tenants/{t}"]["state"] for t in ("globex", "initech")] == ["not started"] * 2
    assert fleet.versions("tenants", "globex") == []
    fleet.query("tenants", "DROP TABLE acme.t002")
    resumed = fleet.project.process("db.upgrade", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert all(fleet.versions("tenants", t) == [HEAD] for t in TENANTS)
    assert set(fleet.states().values()) == {"committed"}
    nothing = fleet.project.process("db.upgrade", "--resume")
    assert nothing.returncode == ExitCode.BAD_INPUT and "nothing to resume" in nothing.stderr


def test_a_failure_budget_lets_the_others_run(fleet: Fleet) -> None:
    _break_tenant(fleet, "acme")
    run = fleet.project.process(
        "db.upgrade", "--target", "tenants", "--parallel", "1", "--max-failures", "1"
    )
    assert run.returncode == ExitCode.FAILED
    assert fleet.versions("tenants", "globex") == fleet.versions("tenants", "initech") == [HEAD]
    assert "1 member(s) failed: tenants/acme" in run.stderr


def test_a_failing_canary_stops_before_the_rest(fleet: Fleet) -> None:
    _break_tenant(fleet, "acme")  # the first member in the file's order
    run = fleet.project.process(
        "db.upgrade", "--target", "tenants", "--canary", "1", "--max-failures", "50%"
    )
    assert run.returncode == ExitCode.FAILED
    assert fleet.versions("tenants", "globex") == fleet.versions("tenants", "initech") == []


def test_two_shards_at_once_cover_the_fleet_once(fleet: Fleet) -> None:
    first = fleet.project.popen("db.upgrade", "--all", "--shard", "0/2")
    second = fleet.project.popen("db.upgrade", "--all", "--shard", "1/2")
    for proc in (first, second):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert fleet.versions("alpha") == fleet.versions("beta") == [HEAD]
    assert all(fleet.versions("tenants", t) == [HEAD] for t in TENANTS)
    applied = fleet.query("alpha", "SELECT rev FROM acme.applied_log ORDER BY rev")
    assert applied == [("r001",), ("r002",), ("r003",)]  # each revision ran once


def test_selection_mistakes_are_one_line_errors(fleet: Fleet) -> None:
    unknown = fleet.project.process("db.status", "--target", "gamma")
    assert unknown.returncode == ExitCode.BAD_INPUT
    assert "no target named 'gamma'" in unknown.stderr and "Traceback" not in unknown.stderr
    unset = fleet.project.process("db.status", "--all", FLEET_BETA_URL="")
    assert unset.returncode == ExitCode.BAD_INPUT and "FLEET_BETA_URL is not set" in unset.stderr
    secret = "pw-" + "x" * 12
    bad = fleet.project.process(
        "db.status", "--all", FLEET_BETA_URL=f"postgresql://u:{secret}@[::1/db"
    )
    assert bad.returncode == ExitCode.BAD_INPUT and secret not in bad.stdout + bad.stderr
    shard = fleet.project.process("db.upgrade", "--shard", "3/2", "--all")
    assert shard.returncode == ExitCode.BAD_INPUT and "0..N-1" in shard.stderr


def test_a_member_that_does_not_answer_is_a_row_in_status_and_stops_an_upgrade(
    fleet: Fleet,
) -> None:
    closed = "postgresql://u:hidden-pass-123@127.0.0.1:9/db"  # the discard port: nothing
    shown = fleet.project.process("db.status", "--all", "--json", FLEET_BETA_URL=closed)
    assert shown.returncode == 0, shown.stderr
    rows = {row["member"]: row for row in json.loads(shown.stdout)}
    assert rows["beta"]["state"] == "unreachable" and rows["alpha"]["pending"] == 3
    assert "hidden-pass-123" not in shown.stdout
    run = fleet.project.process("db.upgrade", "--all", FLEET_BETA_URL=closed)
    assert run.returncode == ExitCode.FAILED and "do not answer" in run.stderr
    assert fleet.versions("alpha") == []  # nothing started


def _sleeping(fleet: Fleet) -> int:
    rows = fleet.query(
        "alpha",
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
        "AND state = 'active'",
    )
    return int(str(rows[0][0]))


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill-main", "terminal-ctrl-c"])
def test_ctrl_c_cancels_running_members_and_starts_no_more(fleet: Fleet, whole_group: bool) -> None:
    """A terminal's Ctrl-C reaches every process of the group; `kill -INT` only the main
    one, which passes it on."""
    write_chain(fleet.project.versions, 3, sleep_in_first=60)
    proc = subprocess.Popen(
        [*INV, "db.upgrade", "--target", "tenants", "--parallel", "2"],
        cwd=fleet.root,
        env=fleet.project.inv_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while _sleeping(fleet) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sleeping(fleet) == 2
    if whole_group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err and "interrupted" in err
    # The statements were cancelled, not left running (each would sleep 60 s): the server
    # sent the cancel on when the workers asked, and ends each within moments.
    deadline = time.monotonic() + 5
    while _sleeping(fleet) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sleeping(fleet) == 0
    assert sorted(fleet.states().values()) == ["interrupted", "interrupted", "not started"]
    assert all(fleet.versions("tenants", t) == [] for t in TENANTS)


@pytest.mark.parametrize("cap", [1, 2])
def test_per_host_caps_the_sessions_on_one_server(fleet: Fleet, cap: int) -> None:
    write_chain(fleet.project.versions, 3, sleep_in_first=1.0)
    proc = fleet.project.popen(
        "db.upgrade", "--target", "tenants", "--parallel", "3", "--per-host", str(cap)
    )
    most = 0
    while proc.poll() is None:
        most = max(most, _sleeping(fleet))
        time.sleep(0.05)
    assert proc.returncode == 0, proc.communicate()[1]
    assert most == cap


def test_downgrade_and_validate_take_named_targets(fleet: Fleet) -> None:
    up = fleet.project.process("db.upgrade", "--target", "alpha,beta,prod", "--yes")
    assert up.returncode == 0, up.stderr
    down = fleet.project.process("db.downgrade", "-r", "r001", "--target", "alpha,beta", "--yes")
    assert down.returncode == 0, down.stderr
    assert fleet.versions("alpha") == fleet.versions("beta") == ["r001"]
    refused = fleet.project.process("db.downgrade", "-r", "base", "--target", "prod", "--yes")
    assert refused.returncode == ExitCode.REFUSED and "production" in refused.stderr
    assert fleet.versions("prod") == [HEAD]
    checked = fleet.project.process("db.validate", "--only", "database", "--target", "prod")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "== prod" in checked.stdout


def test_new_tenant_databases_are_cloned_at_head_from_a_template(fleet: Fleet) -> None:
    ep = fleet.project.settings().endpoint
    suffix = fleet.databases["alpha"].rsplit("_", 1)[1]
    names = [f"c{suffix}a", f"c{suffix}b"]
    (fleet.root / "customers.txt").write_text("\n".join(names))
    with (fleet.root / "pyproject.toml").open("a") as out:
        out.write(
            "\n[tool.dbtasks.targets.customers]\n"
            'url_env = "FLEET_ALPHA_URL"\ntenancy = "database"\nmembers_file = "customers.txt"\n'
            f'url_template = "postgresql://{ep.user}@{ep.host}:{ep.port}/{{tenant}}"\n'
        )
    fleet.databases.update({name: name for name in names})
    missing = fleet.project.process("db.upgrade", "--target", "customers")
    assert missing.returncode == ExitCode.FAILED and "do not answer" in missing.stderr
    behind = fleet.project.process(
        "db.upgrade", "-r", "r001", "--target", "customers", "--create-missing"
    )
    assert behind.returncode == ExitCode.BAD_INPUT and "at head" in behind.stderr
    made = fleet.project.process("db.upgrade", "--target", "customers", "--create-missing")
    assert made.returncode == 0, made.stderr
    assert "created 2 tenant database(s), cloned from" in made.stdout
    assert "0 to upgrade" in made.stdout  # at head already: nothing replayed on them
    assert [fleet.versions(name) for name in names] == [[HEAD], [HEAD]]
    names.append(f"c{suffix}c")
    fleet.databases[names[-1]] = names[-1]
    (fleet.root / "customers.txt").write_text("\n".join(names))
    again = fleet.project.process("db.upgrade", "--target", "customers", "--create-missing")
    assert again.returncode == 0, again.stderr
    assert "created 1 tenant database(s)" in again.stdout and fleet.versions(names[-1]) == [HEAD]
    templates = fleet.query("alpha", "SELECT datname FROM pg_database WHERE datistemplate")
    assert len([t for t in templates if str(t[0]).startswith("customers_tenant")]) == 1


COLUMNS = (
    "SELECT table_name, column_name, data_type, is_nullable, "
    "replace(coalesce(column_default, ''), '{schema}.', '') FROM information_schema.columns "
    "WHERE table_schema = '{schema}' ORDER BY 1, 2"
)


RICH = """
    op.execute("CREATE TYPE mood AS ENUM ('ok', 'bad')")
    op.execute(
        "CREATE TABLE entries (id serial PRIMARY KEY, mood mood NOT NULL DEFAULT 'ok', "
        "parent int REFERENCES entries (id))"
    )
    op.execute("CREATE VIEW bad_entries AS SELECT id FROM entries WHERE mood = 'bad'")
    op.execute("INSERT INTO entries (mood) VALUES ('bad')")"""


def test_new_tenant_schemas_are_copied_at_head_from_a_template(fleet: Fleet) -> None:
    undo = 'op.execute("DROP VIEW bad_entries; DROP TABLE entries; DROP TYPE mood")'
    (fleet.project.versions / "004_r004.py").write_text(revision_text("r004", HEAD, RICH, undo))
    made = fleet.project.process("db.upgrade", "--target", "tenants", "--create-missing")
    assert made.returncode == 0, made.stderr
    assert "created 3 tenant schema(s), copied from a template" in made.stdout
    assert "0 to upgrade" in made.stdout  # at head already: nothing replayed on them
    assert all(fleet.versions("tenants", t) == ["r004"] for t in TENANTS)
    migrated = fleet.project.process("db.upgrade", "--target", "alpha")
    assert migrated.returncode == 0, migrated.stderr
    replayed = fleet.query("alpha", COLUMNS.format(schema="app"))
    assert ("entries", "mood", "USER-DEFINED", "NO", "'ok'::mood") in replayed
    assert fleet.query("tenants", COLUMNS.format(schema="acme")) == replayed
    (fleet.root / "tenants.txt").write_text("\n".join([*TENANTS, "hooli"]))
    fleet.query("tenants", "INSERT INTO acme.entries DEFAULT VALUES")  # a tenant's own row
    again = fleet.project.process("db.upgrade", "--target", "tenants", "--create-missing")
    assert again.returncode == 0, again.stderr
    assert "created 1 tenant schema(s)" in again.stdout
    assert fleet.versions("tenants", "hooli") == ["r004"]
    # The data migration's row came along, the sequence follows the schema, the view too.
    fleet.query("tenants", "INSERT INTO hooli.entries (parent) VALUES (1)")
    assert fleet.query("tenants", "SELECT id, mood::text FROM hooli.entries ORDER BY 1") == [
        (1, "bad"),
        (2, "ok"),
    ]
    assert fleet.query("tenants", "SELECT count(*) FROM acme.entries") == [(2,)]
    assert fleet.query("tenants", "SELECT id FROM hooli.bad_entries") == [(1,)]
    leftovers = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbtasks%'"
    assert fleet.query("tenants", leftovers) == []


def test_new_tenant_schemas_on_production_are_migrated_not_copied(fleet: Fleet) -> None:
    with (fleet.root / "pyproject.toml").open("a") as out:
        out.write(
            '\n[tool.dbtasks.targets.live]\nurl_env = "FLEET_PROD_URL"\nrole = "production"\n'
            'tenancy = "schema"\nmembers_file = "tenants.txt"\n'
        )
    done = fleet.project.process("db.upgrade", "--target", "live", "--create-missing", "--yes")
    assert done.returncode == 0, done.stderr
    assert "3 tenant schema(s) missing, migrating from empty (" in done.stdout
    assert "production" in done.stdout and "3 to upgrade" in done.stdout
    assert all(fleet.versions("prod", t) == [HEAD] for t in TENANTS)
    templates = fleet.query("prod", "SELECT datname FROM pg_database WHERE datname LIKE 'live%'")
    assert templates == []


def test_status_shows_members_whose_schema_drifted(fleet: Fleet) -> None:
    done = fleet.project.process("db.upgrade", "--target", "tenants,beta")
    assert done.returncode == 0, done.stderr

    def drift() -> dict[str, str | None]:
        shown = fleet.project.process("db.status", "--target", "tenants,beta", "--json")
        assert shown.returncode == 0, shown.stderr
        return {row["member"]: row["drift"] for row in json.loads(shown.stdout)}

    assert set(drift().values()) == {"same"}  # a tenant schema and a database, alike
    fleet.query("tenants", "CREATE INDEX by_hand ON acme.t002 (id)")
    fleet.query("beta", "ALTER TABLE app.t001 ADD COLUMN note text")
    seen = drift()
    assert seen["tenants/acme"] == seen["beta"] == f"differs from 2 at {HEAD}"
    assert seen["tenants/globex"] == seen["tenants/initech"] == "same"
    text = fleet.project.process("db.status", "--target", "tenants")
    assert "drift" in text.stdout and f"differs from 2 at {HEAD}" in text.stdout


def test_squash_prune_all_waits_for_every_member(fleet: Fleet) -> None:
    up = fleet.project.process("db.upgrade", "--target", "alpha,tenants")
    assert up.returncode == 0, up.stderr
    squashed = fleet.project.process("db.squash", "--upto", "r002")
    assert squashed.returncode == 0, squashed.stderr + squashed.stdout
    behind = fleet.project.process("db.squash", "--prune", "--all", "--yes")
    assert behind.returncode == ExitCode.REFUSED
    assert "member beta is at base, not past the squash point r002" in behind.stderr
    assert "inv db.upgrade --target beta" in behind.stderr
    rest = fleet.project.process("db.upgrade", "--target", "beta,prod", "--yes")
    assert rest.returncode == 0, rest.stderr
    working = fleet.project.env["FLEET_PROD_URL"]
    fleet.project.env["FLEET_PROD_URL"] = "postgresql://u:s3cret@127.0.0.1:1/x"
    silent = fleet.project.process("db.squash", "--prune", "--all", "--yes")
    assert silent.returncode == ExitCode.REFUSED and "member prod does not answer" in silent.stderr
    assert "s3cret" not in silent.stderr + silent.stdout
    fleet.project.env["FLEET_PROD_URL"] = working
    pruned = fleet.project.process("db.squash", "--prune", "--all", "--yes")
    assert pruned.returncode == 0, pruned.stderr
    assert "6 database(s) past the squash point" in pruned.stdout
    assert "pruned 2 replaced revision files" in pruned.stdout


def test_a_thousand_tenant_schemas_read_together_and_only_the_behind_run(fleet: Fleet) -> None:
    """1,000 schemas on one cluster (made at head by SQL, not by 1,000 upgrades): the
    matrix has a row for each, and an upgrade opens only the three left behind."""
    many = [f"m{i:04d}" for i in range(1000)]
    behind = {"m0007", "m0500", "m0999"}
    (fleet.root / "many.txt").write_text("\n".join(many))
    with (fleet.root / "pyproject.toml").open("a") as out:
        out.write('\n[tool.dbtasks.targets.many]\nurl_env = "FLEET_ALPHA_URL"\n')
        out.write('tenancy = "schema"\nmembers_file = "many.txt"\n')
    made = [
        f"CREATE SCHEMA {s}; CREATE TABLE {s}.alembic_version (version_num varchar(32) "
        f"PRIMARY KEY); INSERT INTO {s}.alembic_version VALUES "
        f"('{'r002' if s in behind else HEAD}')"
        for s in many
    ]
    fleet.query("alpha", ";".join(made))
    shown = fleet.project.process("db.status", "--target", "many", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert len(rows) == 1000
    assert {r["member"].split("/")[1] for r in rows if r["pending"]} == behind
    done = fleet.project.process("db.upgrade", "--target", "many", "--parallel", "2")
    assert done.returncode == 0, done.stderr
    assert "1000 member(s): 3 to upgrade, 997 at head" in done.stdout
    assert all(fleet.versions("alpha", s) == [HEAD] for s in behind)
    assert fleet.query("alpha", "SELECT count(*) FROM m0500.t003") == [(0,)]


def test_a_target_with_a_history_of_its_own(fleet: Fleet) -> None:
    """`alembic_config`: the target's own ini file, script folder and revisions."""
    import shutil

    other = fleet.root / "billing"
    (other / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(fleet.root / "alembic" / name, other / name)
    ini = (fleet.root / "alembic.ini").read_text().replace("%(here)s/alembic", "%(here)s/billing")
    (fleet.root / "billing.ini").write_text(ini)
    for i, rev in enumerate(("b001", "b002"), start=1):
        text = revision_text(
            rev, "b001" if i == 2 else None, f'op.execute("CREATE TABLE bill{i} ()")'
        )
        (other / "versions" / f"{i:03d}_{rev}.py").write_text(text)
    with (fleet.root / "pyproject.toml").open("a") as out:
        out.write('\n[tool.dbtasks.targets.billing]\nurl_env = "FLEET_BETA_URL"\n')
        out.write('alembic_config = "billing.ini"\nschema = "billing"\n')
    shown = fleet.project.process("db.status", "--target", "alpha,billing", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = {row["member"]: row for row in json.loads(shown.stdout)}
    assert rows["alpha"]["heads"] == [HEAD] and rows["billing"]["heads"] == ["b002"]
    assert rows["billing"]["pending"] == 2
    done = fleet.project.process("db.upgrade", "--target", "alpha,billing")
    assert done.returncode == 0, done.stderr
    assert fleet.versions("alpha") == [HEAD] and fleet.versions("beta", "billing") == ["b002"]
    assert fleet.query("beta", "SELECT to_regclass('billing.bill2')::text") == [("billing.bill2",)]
    (fleet.root / "pyproject.toml").write_text(
        (fleet.root / "pyproject.toml").read_text().replace("billing.ini", "nowhere.ini")
    )
    missing = fleet.project.process("db.status", "--target", "billing")
    assert (
        missing.returncode == ExitCode.BAD_INPUT and "nowhere.ini is not a file" in missing.stderr
    )
