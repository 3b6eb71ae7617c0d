"""Where a history can be cut: the revisions a baseline replaces, and those that stay.

Pure, over the graph as data: a cut at REV replaces REV and everything it needs (parents
and `depends_on`, transitively); every revision that stays may build on REV, but on no
other replaced revision, or it would lose its parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dbtasks.errors import ConfigError
from dbtasks.migrations.graph import Graph, Revision


@dataclass(frozen=True)
class Cut:
    upto: Revision
    replaced: tuple[Revision, ...]  # oldest first; `upto` last
    kept: tuple[Revision, ...]  # oldest first
    labels: tuple[str, ...]  # the branch labels of the replaced revisions, for the baseline

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.replaced)


def cut(graph: Graph, upto: str) -> Cut:
    """The cut at `upto` (an id the graph holds), or bad input saying why not."""
    if upto not in graph:
        raise ConfigError(f"there is no revision {upto!r}", "see `inv db.history`")
    needed = graph.ancestors([upto])
    oldest_first = list(reversed(graph.revisions))
    replaced = tuple(r for r in oldest_first if r.id in needed)
    if len(replaced) < 2:
        raise ConfigError(
            f"{upto} is the first revision: there is nothing to squash",
            "squash up to a later revision",
        )
    kept = tuple(r for r in oldest_first if r.id not in needed)
    for revision in kept:
        _builds_on_rev_only(revision, needed, upto)
    labels = tuple(sorted({label for r in replaced for label in r.branch_labels}))
    return Cut(graph.get(upto), replaced, kept, labels)


def _builds_on_rev_only(revision: Revision, needed: set[str], upto: str) -> None:
    below = [r for r in (*revision.down, *revision.depends_on) if r in needed and r != upto]
    if below:
        raise ConfigError(
            f"revision {revision.id} ({Path(revision.path).name}) builds on {below[0]}, "
            f"which a squash up to {upto} would replace",
            "squash up to a revision that every later one descends from (merge branches first)",
        )
