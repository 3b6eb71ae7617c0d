"""`inv db.erd` on histories no one here wrote (ckan, open-webui, prefect, from PyPI):
drawn at the heads and at a revision from the middle of the history, valid Mermaid, the
second a subset of the first's tables where the history only grows."""

from __future__ import annotations

import json

import pytest

from tests.real.harness import Databases, Project, ok, ok_json
from tests.unit.test_erd_grammar import check

pytestmark = [pytest.mark.real, pytest.mark.integration, pytest.mark.e2e]


def test_the_schema_renders_at_head_and_from_the_middle(
    project: Project, databases: Databases
) -> None:
    db = databases.new()  # never migrated: db.erd builds its own scratch databases
    order = [r["id"] for r in ok_json(project.inv(db, "db.history", "--json"))]
    middle = order[len(order) // 2]
    head = json.loads(ok(project.inv(db, "db.erd", "--format", "json")))
    assert len(head["tables"]) >= 5, head["tables"]
    halfway = json.loads(ok(project.inv(db, "db.erd", "--rev", middle, "--format", "json")))
    assert halfway["revisions"] == [middle]
    assert halfway["tables"]
    for rev in ("heads", middle):
        text = ok(project.inv(db, "db.erd", "--rev", rev, "--format", "markdown"))
        fences = [part.split("```", 1)[0] for part in text.split("```mermaid\n")[1:]]
        assert fences and all(check(fence) == [] for fence in fences), rev
    # The database itself was never touched: it has no version table, no tables.
    assert ok_json(project.inv(db, "db.status", "--json"))["current"] == []
