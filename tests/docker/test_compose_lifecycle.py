"""The compose backend's lifecycle on a real engine, through the real `inv` command."""

from __future__ import annotations

import json

import pytest

from tests.docker.conftest import STANDIN, ComposeProject
from tests.projects import write_chain

pytestmark = pytest.mark.docker


def ok(result: object) -> str:
    """stdout of a command that must have succeeded (its stderr in the failure message)."""
    assert getattr(result, "returncode", None) == 0, getattr(result, "stderr", result)
    return str(getattr(result, "stdout", ""))


def test_up_waits_healthy_and_status_logs_and_health_see_it(small: ComposeProject) -> None:
    assert "started on port" in ok(small.inv("stack.up"))
    assert "already running" in ok(small.inv("stack.up"))
    status = json.loads(ok(small.inv("stack.status", "--json")))
    assert status["backend"] == "compose" and status["running"] is True
    assert status["project"] == small.name and status["image"] == STANDIN
    assert (status["container_state"], status["health"]) == ("running", "healthy")
    assert status["volume"] == f"{small.name}_db-data"
    assert "***" in status["url"]
    assert "ready to accept connections" in ok(small.inv("stack.logs", "--lines", "20"))
    assert "healthy" in ok(small.inv("db.health"))
    # What the stand-in gives an app's migrations, in DB_NAME itself.
    roles = small.query("SELECT rolname FROM pg_roles")
    assert {"anon", "authenticated", "service_role"} <= {r for (r,) in roles}
    assert small.query("SELECT to_regprocedure('auth.uid()') IS NOT NULL") == [(True,)]


def test_init_then_reset_rebuilds_the_volume_migrated_and_seeded(
    mindmirror: ComposeProject,
) -> None:
    assert "at head" in ok(mindmirror.inv("db.init"))
    first_volume = mindmirror.volume()["CreatedAt"]
    mindmirror.query("CREATE TABLE public.left_behind (id int)")
    out = ok(mindmirror.inv("db.reset", "--yes"))
    assert "compose stack started" in out and "at head" in out
    assert mindmirror.volume()["CreatedAt"] != first_volume  # a new volume, not a new schema
    assert mindmirror.query("SELECT to_regclass('public.left_behind')") == [(None,)]
    profiles = mindmirror.query("SELECT display_name FROM app.profiles ORDER BY 1")
    assert profiles == [("Ada Example",), ("Grace Sample",)]
    assert mindmirror.query("SELECT count(*) FROM auth.users") == [(2,)]
    ok(mindmirror.inv("db.status", "--check"))


def test_two_upgrades_at_once_from_a_stopped_stack_apply_each_revision_once(
    small: ComposeProject,
) -> None:
    # The first revision sleeps, so the second process surely waits on the lock.
    write_chain(small.scratch.versions, 12, sleep_in_first=1)
    runs = [small.scratch.popen("db.upgrade") for _ in range(2)]
    results = [(p.wait(), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    counts = dict(small.query("SELECT rev, count(*) FROM app.applied_log GROUP BY rev"))
    assert len(counts) == 12 and set(counts.values()) == {1}
    assert small.query("SELECT version_num FROM app.alembic_version") == [("r012",)]
    assert sum("already at head r012" in out for _, out, _ in results) == 1
    assert len([c for c in small.leftovers() if c.startswith("container")]) == 1


def test_down_keeps_the_volume_and_destroy_leaves_nothing(small: ComposeProject) -> None:
    ok(small.inv("stack.up"))
    small.query("CREATE TABLE public.kept (id int)")
    assert "volume is kept" in ok(small.inv("stack.down"))
    assert small.leftovers() == [f"volume {small.name}_db-data"]
    status = json.loads(ok(small.inv("stack.status", "--json")))
    assert status["running"] is False and status["container_state"] == "absent"
    ok(small.inv("stack.up"))
    assert small.query("SELECT to_regclass('public.kept') IS NOT NULL") == [(True,)]

    refused = small.inv("stack.down", "--destroy")
    assert refused.returncode == 4 and "--yes" in refused.stderr
    assert len(small.leftovers()) == 3  # container, volume, network: untouched
    assert "no container or volume is left" in ok(small.inv("stack.down", "--destroy", "--yes"))
    assert small.leftovers() == []
