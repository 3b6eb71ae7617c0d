"""`inv db.plan` on histories no one here wrote (ckan, open-webui, prefect, from PyPI):
a database a few revisions behind head plans every pending revision, each traced on the
clone (the ones that read rows too), its downgrade checked; the target is only read."""

from __future__ import annotations

import pytest

from tests.real.harness import Databases, Project, ok, ok_json

pytestmark = [pytest.mark.real, pytest.mark.integration, pytest.mark.e2e]
BEHIND = 4


def test_the_last_revisions_plan_on_a_scratch_clone(project: Project, databases: Databases) -> None:
    db = databases.new()
    order = [r["id"] for r in ok_json(project.inv(db, "db.history", "--json"))]  # newest first
    start = order[BEHIND]
    ok(project.inv(db, "db.upgrade", "-r", start))
    before = ok_json(project.inv(db, "db.status", "--json"))
    found = ok_json(project.inv(db, "db.plan", "--json"))
    planned = [r["id"] for r in found["revisions"]]
    assert planned and set(planned) <= set(order[:BEHIND]), planned
    for revision in found["revisions"]:
        assert revision["error"] is None and revision["skipped"] is None, revision
        assert revision["statements"], revision["id"]
        assert revision["downgrade"] is not None, revision["id"]
    assert ok_json(project.inv(db, "db.status", "--json")) == before  # only read
