"""How a fleet command shows what it found and what it did, for people and for `--json`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.fleet.commands import FleetRun
    from dbtasks.fleet.matrix import Row


def matrix(console: Console, rows: Sequence[Row]) -> None:
    if console.json_mode:
        console.json([row.as_dict() for row in rows])
        return
    console.table(
        ("member", "role", "current", "head", "state", "drift", "last applied"),
        [
            (
                r.member,
                r.role,
                ", ".join(r.current) or "-",
                ", ".join(r.heads) or "-",
                r.error or r.state,
                r.drift or "-",
                r.last_applied.strftime("%Y-%m-%d %H:%M") if r.last_applied else "-",
            )
            for r in rows
        ],
    )
    counts = Counter(_kind(r) for r in rows)
    console.line(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))


def _kind(row: Row) -> str:
    return "pending" if row.pending and row.error is None and not row.unknown else row.state


def run(console: Console, done: FleetRun) -> None:
    """Every member by what happened to it: committed, failed, not started."""
    entries = done.book.members
    if console.json_mode:
        console.json({"revision": done.book.revision, **done.book.as_dict()})
        return
    by_state: dict[str, list[str]] = {}
    for name, entry in entries.items():
        by_state.setdefault(entry.state, []).append(name)
    for state in ("committed", "at head", "failed", "interrupted", "not started"):
        names = by_state.get(state, [])
        if names:
            console.line(f"{state} ({len(names)}): {_listed(names)}")
    for name, entry in entries.items():
        if entry.error:
            console.line(f"  {name}: {entry.error}")


def _listed(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
