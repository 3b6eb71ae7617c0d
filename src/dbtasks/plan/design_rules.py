"""The hints about how a revision is written rather than what one statement locks:
eugene's W12-W14. Each is low risk on its own; each costs later, or costs twice."""

from __future__ import annotations

import re

from dbtasks.plan.hint_base import Context, facts
from dbtasks.plan.model import Hint, Traced

_ENUM = re.compile(r"^\s*create\s+type\s+(\S+)\s+as\s+enum\b", re.IGNORECASE)
_PK_USING_INDEX = re.compile(r"\bprimary\s+key\s+using\s+index\s+(\S+)", re.IGNORECASE)
_ALTER = re.compile(r"^\s*alter\s+table\b", re.IGNORECASE)
_WHOLE_TABLE = ("scan", "rewrite")


def repeated_alter(s: Traced, ctx: Context) -> list[Hint]:
    """eugene W12: a second ALTER TABLE that scans or rewrites a table an earlier
    statement of the revision already scanned or rewrote."""
    if s.work not in _WHOLE_TABLE or not _ALTER.match(s.sql):
        return []
    index = next(i for i, other in enumerate(ctx.statements) if other is s)
    table = next((f.table for f in s.facts), None)
    earlier = [
        e
        for e in ctx.statements[:index]
        if e.work in _WHOLE_TABLE and _ALTER.match(e.sql) and table in e.tables()
    ]
    if table is None or not earlier:
        return []
    return [
        Hint(
            "alter-table-repeated",
            "eugene W12",
            f"goes over {ctx.size(table)} again: {len(earlier)} earlier statement(s) of this "
            "revision altering it already did, each under its lock",
            'one statement for all of them: op.execute("alter table t alter column a set not '
            'null, alter column b set not null")',
        )
    ]


def enum_created(s: Traced, ctx: Context) -> list[Hint]:
    """eugene W13: a new enum type (its values can be added, never removed in place)."""
    found = _ENUM.match(s.sql)
    if found is None:
        return []
    return [
        Hint(
            "enum-created",
            "eugene W13",
            f"creates enum type {found.group(1)}: a value can be added later, but removing "
            "or renaming one means a new type and a rewrite of every column that uses it",
            "a lookup table and a foreign key (or a text column with a CHECK constraint), "
            "which later revisions change with rows, not DDL",
        )
    ]


def primary_key_sets_not_null(s: Traced, ctx: Context) -> list[Hint]:
    """eugene W14: ADD PRIMARY KEY USING INDEX on columns that were nullable: Postgres
    makes them NOT NULL with a full scan under ACCESS EXCLUSIVE."""
    found = _PK_USING_INDEX.search(s.sql)
    scanned = [f for f in facts(s, "not null") if "checked" not in f.flags]
    if found is None or not scanned:
        return []
    columns = ", ".join(f.detail for f in scanned)
    return [
        Hint(
            "primary-key-sets-not-null",
            "eugene W14",
            f"adds a primary key using index {found.group(1)} on {ctx.size(scanned[0].table)}: "
            f"{columns} become NOT NULL, checked by a scan of the whole table under its lock",
            "make each column NOT NULL first (a CHECK (col IS NOT NULL) NOT VALID, VALIDATE "
            "CONSTRAINT, then SET NOT NULL, which uses it), then add the key",
        )
    ]
