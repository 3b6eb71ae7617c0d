"""Revision histories whose upgrades take time, built on tests/projects.write_chain."""

from __future__ import annotations

from pathlib import Path

from tests.projects import write_chain

# A revision marked slow sleeps this many seconds when the variable is set in the `inv`
# process's environment, and not at all otherwise: a rerun can skip the wait.
SLEEP_ENV = "RELIABILITY_SLEEP"


def write_timed_chain(
    versions: Path, count: int, pause: float = 0.0, slow_at: int | None = None
) -> list[str]:
    """`count` revisions r001.. creating t001..; each sleeps `pause` seconds, and revision
    number `slow_at` (1-based) also sleeps for $RELIABILITY_SLEEP seconds."""
    ids = write_chain(versions, count)
    for number, rev in enumerate(ids, start=1):
        path = versions / f"{number:03d}_{rev}.py"
        create = f'op.execute("CREATE TABLE t{number:03d} (id int)")'
        extra = f'\n    op.execute("SELECT pg_sleep({pause})")' if pause else ""
        if number == slow_at:
            extra += (
                '\n    op.execute("SELECT pg_sleep(%s)" % '
                f'__import__("os").environ.get({SLEEP_ENV!r}, "0"))'
            )
        path.write_text(path.read_text().replace(create, create + extra))
    return ids


def slow_statement(seconds: int) -> str:
    """The text pg_stat_activity shows while the slow revision sleeps."""
    return f"pg_sleep({seconds})"
