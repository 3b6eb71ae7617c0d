"""A long-lived `public`-schema history with no models, written with real histories' habits.

Unnamed constraints that Postgres names (and a later revision drops by that name),
`CREATE INDEX CONCURRENTLY` and `ALTER TYPE ... ADD VALUE` in autocommit blocks, a revision
that commits by itself, `SET lock_timeout`, data migrations that read rows, a labelled
branch with `depends_on`, merges, and a helper module the revisions import.
"""

from __future__ import annotations

from tests.adoption.legacy.common import HELPERS, HELPERS_MODULE
from tests.adoption.legacy.founding import enum_values, people, tasks
from tests.adoption.legacy.growth import feature_branch, main_line, named_constraints, reporting
from tests.adoption.legacy.routine import FILLER_TABLES, filler, last_steps
from tests.adoption.revisions import History, Rev

__all__ = ["DATA_MIGRATION", "FILLER_TABLES", "HELPERS", "HELPERS_MODULE", "legacy_history"]

DATA_MIGRATION = 9  # the first revision that reads rows (offline SQL cannot run it)


def legacy_history() -> list[Rev]:
    h = History("legacy")
    people(h)
    tasks(h)
    enum_values(h)
    branch_point = h.head
    main = main_line(h)
    side = reporting(h, branch_point, depends=main[0])
    h.add("merge reporting", [], [], down=(main[-1], side))
    named_constraints(h)
    feature_branch(h)
    for table in FILLER_TABLES:
        filler(h, table)
    last_steps(h)
    return h.revs
