"""Where the database stands against the scripts: current, heads, pending, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbtasks.migrations.graph import Graph, Revision
    from dbtasks.settings import Settings


@dataclass
class MigrationStatus:
    backend: str
    url: str
    schema: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: list[Revision] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    snapshot: str | None = None  # "valid", "stale" or "none"; None where resets clone nothing
    edited: list[str] = field(default_factory=list)  # applied, and changed since
    notes: list[str] = field(default_factory=list)  # what else the database holds

    @property
    def at_head(self) -> bool:
        return not self.unknown and set(self.current) == set(self.heads)

    @property
    def warnings(self) -> list[str]:
        notes = []
        if len(self.heads) > 1:
            notes.append(
                f"the scripts have {len(self.heads)} heads ({', '.join(self.heads)}): "
                "merge them with `inv db.merge`"
            )
        notes += [
            f"the database is at {rev}, which no script defines: check out the code "
            "that has it, or reset the database"
            for rev in self.unknown
        ]
        notes += [
            f"revision {rev} was edited after it was applied: the databases it already ran "
            "on will never see the change (`inv db.validate` names the file)"
            for rev in self.edited
        ]
        return notes + self.notes

    def summary(self) -> str:
        """The one-line status every migration task ends with."""
        current = ", ".join(self.current) or "an empty database"
        if self.unknown:
            return f"at unknown revision {current}"
        if self.at_head:
            return f"at head {current}" if self.current else "no migrations yet"
        return f"at {current}; {len(self.pending)} pending (head {', '.join(self.heads)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "url": self.url,
            "schema": self.schema,
            "current": list(self.current),
            "heads": list(self.heads),
            "at_head": self.at_head,
            "pending": [r.as_dict() for r in self.pending],
            "unknown": self.unknown,
            "warnings": self.warnings,
            "snapshot": self.snapshot,
            "edited": self.edited,
        }


def compute(settings: Settings, graph: Graph, current: tuple[str, ...]) -> MigrationStatus:
    status = MigrationStatus(
        settings.backend, settings.masked_url, settings.schema, current, graph.heads
    )
    status.unknown = graph.unknown(current)
    if not status.unknown:
        status.pending = graph.pending(current)
    return status
