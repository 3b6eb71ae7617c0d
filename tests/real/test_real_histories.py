"""Real Alembic histories from PyPI adopt dbtasks as a team would adopt it.

Each history (tests/real/histories.py) is built once by raw `alembic upgrade heads` with a
plain env.py, on a database as any Postgres server makes it, and once by `inv db.upgrade`,
on a database of the dbtasks cluster; the two must be the same database. Every other test
works on a copy of the raw one: the database an adopting team already has.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from dbtasks.catalog import diff
from tests.real.harness import Built, Database, ok, ok_json

pytestmark = [pytest.mark.real, pytest.mark.integration, pytest.mark.e2e]
PUBLIC = ["public"]


def same_as_raw(built: Built, db: Database) -> list[str]:
    """How `db`'s history schema differs from raw Alembic's at head."""
    return diff(built.raw.describe(PUBLIC), db.describe(PUBLIC))


def whole_database_diff(a: Database, b: Database) -> list[str]:
    """How `b` differs from `a` in every schema and extension, not only the history's."""
    mine, theirs = a.extensions(), b.extensions()
    lines = [f"extension {n} in {s} missing" for n, s in sorted(mine - theirs)]
    lines += [f"extension {n} in {s} extra" for n, s in sorted(theirs - mine)]
    schemas = sorted(set(a.user_schemas()) | set(b.user_schemas()))
    return lines + diff(a.describe(schemas), b.describe(schemas))


def test_the_history_is_what_was_pinned(built: Built) -> None:
    history, project = built.project.history, built.project
    assert len(project.revision_files()) == history.revisions
    text = project.text()
    missing = [habit for habit in history.habits if habit not in text]
    assert missing == [], missing
    assert built.heads, ok(project.alembic_plain("heads"))


def test_upgrade_builds_what_raw_alembic_builds(built: Built) -> None:
    ok(built.raw_upgrade)
    ok(built.our_upgrade)
    assert built.raw.version() == built.ours.version() == built.heads
    # The history's own schema first: the same tables, constraints, indexes, enums...
    different = same_as_raw(built, built.ours)
    assert different == [], "\n".join(different)
    assert built.ours.describe(PUBLIC).tables
    # ...and nothing else: a database of the dbtasks cluster holds what the history
    # made, as a database of any other server would.
    different = whole_database_diff(built.raw, built.ours)
    assert different == [], "\n".join(different)


def test_status_and_history(built: Built, adopted: Database) -> None:
    status = ok(built.project.inv(adopted, "db.status"))
    for head in built.heads:
        assert head in status, status
    ok(built.project.inv(adopted, "db.status", "--check"))
    ok(built.project.inv(adopted, "db.history"))
    rows = json.loads(ok(built.project.inv(adopted, "db.history", "--json")))
    assert len(rows) == built.project.history.revisions
    states = {row["id"]: row["state"] for row in rows}
    assert {states[head] for head in built.heads} == {"current"}
    assert set(states.values()) == {"applied", "current"}


def test_validate_reports_json(built: Built, adopted: Database) -> None:
    """Findings may be real ones: they are printed, not judged; a crash is a failure."""
    result = built.project.inv(adopted, "db.validate", "--json")
    report = ok_json(result)
    assert report["exit_code"] == result.returncode, report
    assert report["checks"], report
    for check in report["checks"]:
        assert check["error"] is None, check  # a check that could not run
        print(f"{check['check']}: {check['level']}, {len(check['findings'])} finding(s)")
        shown = [f for f in check["findings"] if f["level"] != "pass"]
        if check["check"] == "lint":  # squawk's rule names, counted
            rules = Counter(f"{f['level']} {f['message'].split(' [')[0]}" for f in shown)
            shown = [{"level": n, "revision": rule, "message": ""} for rule, n in rules.items()]
        for finding in shown:
            print(f"  {finding['level']} {finding['revision']}: {finding['message'][:400]}")


def test_reset_rebuilds_head(built: Built, adopted: Database) -> None:
    ok(built.project.inv(adopted, "db.reset", "--yes"))
    assert adopted.version() == built.heads
    different = same_as_raw(built, adopted)
    assert different == [], "\n".join(different)


def test_downgrade_two_and_upgrade_again(built: Built, adopted: Database) -> None:
    ok(built.project.inv(adopted, "db.downgrade", "-2", "--yes"))
    down = adopted.version()
    assert down and down != built.heads
    ok(built.project.inv(adopted, "db.upgrade"))
    assert adopted.version() == built.heads
    different = same_as_raw(built, adopted)
    assert different == [], "\n".join(different)
