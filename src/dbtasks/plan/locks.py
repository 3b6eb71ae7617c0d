"""Postgres' table lock modes: how strong each is and what it blocks.

The table is Postgres' own ("Conflicting Lock Modes", explicit locking chapter): a lock
blocks reads when it conflicts with ACCESS SHARE (plain SELECT), writes when it conflicts
with ROW EXCLUSIVE (INSERT, UPDATE, DELETE). A statement that waits for its lock also
blocks every later statement that conflicts with the lock it waits for: the queue is why
a lock without `lock_timeout` is dangerous even on an empty table.
"""

from __future__ import annotations

from typing import Any

ORDER = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
SQL_NAMES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
ACCESS_EXCLUSIVE = "AccessExclusiveLock"


def strength(mode: str) -> int:
    return ORDER.index(mode) if mode in ORDER else -1


def blocks_reads(mode: str) -> bool:
    return mode == ACCESS_EXCLUSIVE


def blocks_writes(mode: str) -> bool:
    """SHARE and stronger conflict with ROW EXCLUSIVE: INSERT, UPDATE and DELETE wait."""
    return strength(mode) >= strength("ShareLock")


def dangerous(mode: str) -> bool:
    """Blocks the application's reads or writes (eugene's "dangerous" locks)."""
    return blocks_writes(mode)


def blocks(mode: str) -> str:
    """What the application cannot do while the lock is held (or waited for)."""
    if blocks_reads(mode):
        return "reads+writes"
    if blocks_writes(mode):
        return "writes"
    return "-"


def sql_name(mode: str) -> str:
    return SQL_NAMES.get(mode, mode)


def inferred(node: Any) -> str | None:
    """The table lock a statement that ran outside a transaction took, from its parse tree
    (its locks were gone before they could be seen): None when it takes none worth naming."""
    from pglast import ast

    if isinstance(node, ast.IndexStmt | ast.DropStmt | ast.ReindexStmt):
        if concurrently(node):
            return "ShareUpdateExclusiveLock"
        return (
            "ShareLock" if isinstance(node, ast.IndexStmt | ast.ReindexStmt) else ACCESS_EXCLUSIVE
        )
    if isinstance(node, ast.VacuumStmt):
        full = any(getattr(o, "defname", "") == "full" for o in node.options or ())
        return ACCESS_EXCLUSIVE if full else "ShareUpdateExclusiveLock"
    if isinstance(node, ast.AlterTableStmt):
        return "ShareUpdateExclusiveLock" if _validates_only(node) else ACCESS_EXCLUSIVE
    return None


def _validates_only(node: Any) -> bool:
    """ALTER TABLE ... VALIDATE CONSTRAINT: a scan under SHARE UPDATE EXCLUSIVE, which
    blocks no reads or writes (the referenced table of a foreign key gets ROW SHARE)."""
    from pglast import enums

    cmds = node.cmds or ()
    validate = enums.AlterTableType.AT_ValidateConstraint
    return bool(cmds) and all(cmd.subtype == validate for cmd in cmds)


def concurrently(node: Any) -> bool:
    """CREATE INDEX, DROP INDEX or REINDEX ... CONCURRENTLY."""
    params = getattr(node, "params", None) or ()
    return bool(getattr(node, "concurrent", False)) or any(
        getattr(p, "defname", "") == "concurrently" for p in params
    )
