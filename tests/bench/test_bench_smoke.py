"""The bench harness end to end at a tiny N, and its checks failing when they should.

No wall-clock assertions: these prove the harness measures the right thing, not how fast.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from bench import cli
from bench.options import HELP, Flags
from bench.server import Server, find_psql
from dbtasks.settings import Settings
from dbtasks.stack.binaries import find_binaries
from dbtasks.tasks import bench as bench_task

TINY = ["--revisions", "5", "--reps", "1", "--warmups", "0", "--bytecode", "off"]
# Every case but the cold init (two clusters from scratch: `inv bench --only init
# --quick`), and the plugin and validate cases, which have tests of their own.
CASES = {"startup", "status", "noop", "upgrade", "everyday", "reset"}

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(cluster: Settings) -> Server:
    """The test suite's cluster (with its hostile password) as the bench's server."""
    binaries = find_binaries(cluster.pg_bindir)
    return Server(cluster, binaries, find_psql(binaries))


def test_every_case_runs_and_is_checked_end_to_end(tmp_path: Path, server: Server) -> None:
    out = tmp_path / "results.json"
    only = ",".join(sorted(CASES))
    assert cli.main([*TINY, "--only", only, "--output", str(out)], server) == 0
    data = json.loads(out.read_text())
    results = data["results"]
    assert {r["name"] for r in results} == CASES
    assert [r["failure"] for r in results] == [None] * len(results)
    for result in results:
        for side in result["sides"].values():
            assert len(side["samples_s"]) == 1 and side["samples_s"][0] > 0
        assert all(r["verdict"] in ("PASS", "MISS", "info") for r in result["ratios"])
    upgrade = next(r for r in results if r["name"] == "upgrade")
    # psql is part of this machine's Postgres install: the floors must have run.
    assert {"floor-1tx", "floor-per-rev"} <= set(upgrade["sides"])
    # The start floor stands beside the everyday target, for information only.
    everyday = next(r for r in results if r["name"] == "everyday")
    bounds = [r for r in everyday["ratios"] if r["ours"] == "floor-start"]
    assert [r["verdict"] for r in bounds] == ["info", "info"]
    assert data["machine"]["cpu_count"] and data["machine"]["postgres"]


def test_the_plugin_case_checks_a_per_test_database_at_head(tmp_path: Path, server: Server) -> None:
    """Its first timed test looks inside its database: the history's tables and no more."""
    out = tmp_path / "results.json"
    assert cli.main([*TINY, "--only", "plugin", "--output", str(out)], server) == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["failure"] is None
    assert {"plugin", "no-db", "floor"} == set(result["sides"])


def test_a_database_that_is_not_empty_fails_the_from_empty_run(
    tmp_path: Path,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Sabotage the step that empties each side's database: the run must refuse to time."""
    recreate = Server.recreate

    def leave_a_table(self: Server, database: str, template: str | None = None) -> None:
        import psycopg2

        recreate(self, database, template)

        conn = psycopg2.connect(**self.endpoint.connect_kwargs(database))
        conn.autocommit = True
        with conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA app; CREATE TABLE app.leftover (id int)")
        conn.close()

    monkeypatch.setattr(Server, "recreate", leave_a_table)
    out = tmp_path / "results.json"
    code = cli.main([*TINY, "--only", "upgrade", "--output", str(out)], server)
    assert code == 1
    printed = capsys.readouterr().out
    assert "CHECK FAILED" in printed and "is not empty before a from-empty run" in printed
    (upgrade,) = json.loads(out.read_text())["results"]
    assert upgrade["failure"] and all(not s["samples_s"] for s in upgrade["sides"].values())


def test_inv_bench_and_python_m_bench_share_flags_and_help() -> None:
    body = getattr(bench_task.bench, "body", bench_task.bench)
    params = list(inspect.signature(body).parameters)[1:]
    assert params == list(Flags.__dataclass_fields__)
    assert set(bench_task.HELP) == set(HELP) == set(params)
    for name in ("quick", "full", "reps", "revisions", "bytecode", "warmups"):
        assert bench_task.HELP[name] == HELP[name]


def test_an_everyday_run_that_starts_elsewhere_is_not_timed(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sabotage the clone of each side's starting point (an empty database instead): the
    run would apply the whole history, and must refuse to time it."""
    recreate = Server.recreate

    def ignore_template(self: Server, database: str, template: str | None = None) -> None:
        recreate(self, database, None if database.startswith("day_") else template)

    monkeypatch.setattr(Server, "recreate", ignore_template)
    out = tmp_path / "results.json"
    assert cli.main([*TINY, "--only", "everyday", "--output", str(out)], server) == 1
    (result,) = json.loads(out.read_text())["results"]
    assert "is at no version, expected" in result["failure"]


@pytest.mark.real
def test_the_real_case_times_each_history_after_checking_it(tmp_path: Path, server: Server) -> None:
    """Every real history from empty and with one pending, each run checked."""
    out = tmp_path / "results.json"
    assert cli.main([*TINY, "--only", "real", "--output", str(out)], server) == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["failure"] is None
    assert {"ckan-dbtasks", "ckan-alembic-1", "prefect-dbtasks-1"} <= set(result["sides"])
    assert len(result["ratios"]) == 6


def test_the_fleet_bench_runs_and_checks_at_a_small_scale(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`inv bench --only fleet` (bench/fleet.py), on its own cluster, a tenth of its scale."""
    small = ["--only", "fleet", "--quick", "--reps", "1"]
    assert cli.main(small) == 0
    out = capsys.readouterr().out
    assert "status, 100 schemas" in out and "3 targets from empty, --parallel 3" in out
    assert "10 new tenant database(s) at head" in out and "10 new tenant schemas at head" in out
