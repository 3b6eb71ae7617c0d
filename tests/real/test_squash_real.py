"""Real histories squashed: each history from PyPI squashed up to its head by
`inv db.squash`, whose proof must find 0 fingerprint differences; a database built from
the baseline then equals the one the whole history built."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dbtasks import pg
from dbtasks.catalog.fingerprint import Fingerprint, fingerprint, fingerprint_diff
from tests.real.harness import Built, Database, ok

pytestmark = [pytest.mark.real, pytest.mark.integration, pytest.mark.e2e]


def counted(db: Database) -> Fingerprint:
    """Its fingerprint, rows counted (two builds differ in what now() wrote)."""
    with pg.session(db.cluster.endpoint, db.name) as cur:
        found = fingerprint(cur)
    return replace(found, rows={k: v.split(",")[0] for k, v in found.rows.items()})


def test_a_real_history_squashes_with_no_difference(built: Built) -> None:
    if len(built.heads) != 1:
        pytest.skip(f"{len(built.heads)} heads: a squash cuts below one head")
    ok(built.our_upgrade)
    project, head = built.project, built.heads[0]
    out = ok(project.inv(built.ours, "db.squash", "--upto", head))
    assert "fingerprints equal" in out, out
    assert len(project.revision_files()) == 1  # the baseline alone, where head's file was
    fresh = built.databases.new()
    ok(project.inv(fresh, "db.upgrade"))
    assert fresh.version() == [head]
    different = fingerprint_diff(counted(built.ours), counted(fresh))
    assert different == [], "\n".join(different)
    assert ok(project.inv(fresh, "db.status")).count(head)
