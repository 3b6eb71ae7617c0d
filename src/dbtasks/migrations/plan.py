"""Plans as data: which revisions an upgrade applies, a downgrade undoes, history shows.

Pure functions over a ScriptDirectory and the database's current heads: no connection,
so they are tested on a scratch script directory alone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory

_CREATE_DATE = re.compile(r"Create Date:\s*(.+)")
_RELATIVE = re.compile(r"^-(\d+)$")


@dataclass(frozen=True)
class Revision:
    id: str
    message: str
    path: str
    down: tuple[str, ...]
    date: str
    branch_point: bool
    merge: bool

    @classmethod
    def of(cls, script: Script) -> Revision:
        match = _CREATE_DATE.search(script.module.__doc__ or "")
        return cls(
            id=script.revision,
            message=(script.doc or "").strip(),
            path=script.path,
            down=tuple(script._normalized_down_revisions),
            date=match.group(1).strip()[:19] if match else "",
            branch_point=script.is_branch_point,
            merge=script.is_merge_point,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def heads(script: ScriptDirectory) -> tuple[str, ...]:
    return tuple(script.get_heads())


def unknown(script: ScriptDirectory, current: tuple[str, ...]) -> list[str]:
    """Current revisions that no script defines (e.g. applied from another branch)."""
    known = {s.revision for s in script.walk_revisions()}
    return [rev for rev in current if rev not in known]


def pending(
    script: ScriptDirectory, current: tuple[str, ...], target: str = "heads"
) -> list[Revision]:
    """Revisions an upgrade from `current` to `target` applies, dependencies first.

    Every ancestor of the target that is not applied: a merge pulls in its other branch too.
    """
    done = applied(script, current)
    walked = reversed(list(script.iterate_revisions(target, "base")))
    return [Revision.of(s) for s in walked if s.revision not in done]


def applied(script: ScriptDirectory, current: tuple[str, ...]) -> set[str]:
    """Every revision at or below the current heads."""
    if not current:
        return set()
    return {s.revision for s in script.iterate_revisions(current, "base")}


def to_undo(
    script: ScriptDirectory, current: tuple[str, ...], target: str | None
) -> list[Revision]:
    """Revisions a downgrade from `current` to `target` undoes, newest first."""
    if not current:
        return []
    walked = script.iterate_revisions(current, target or "base")
    return [Revision.of(s) for s in walked]


def resolve_downgrade(script: ScriptDirectory, current: tuple[str, ...], spec: str) -> str | None:
    """Turn `base`, `-N`, an id or a unique prefix into a revision id below `current`."""
    spec = spec.strip()
    if spec == "base":
        return None
    relative = _RELATIVE.match(spec)
    target = (
        _walk_down(script, current, int(relative.group(1))) if relative else _lookup(script, spec)
    )
    if target is not None and target not in applied(script, current):
        raise ConfigError(
            f"revision {spec!r} is not applied, so there is nothing to undo down to it",
            "pick a revision from `inv db.history`",
        )
    return target


def _walk_down(script: ScriptDirectory, current: tuple[str, ...], steps: int) -> str | None:
    if len(current) != 1:
        raise ConfigError(
            f"cannot step back from {len(current)} current revisions",
            "name the target revision instead of -N",
        )
    rev: str | None = current[0]
    for _ in range(steps):
        if rev is None:
            raise ConfigError(f"cannot go back {steps} revisions: the history is shorter")
        down = script.get_revision(rev).down_revision
        if isinstance(down, (tuple, list)):
            raise ConfigError(
                f"{rev} is a merge of {len(down)} revisions",
                "name the target revision instead of -N",
            )
        rev = down
    return rev


def _lookup(script: ScriptDirectory, spec: str) -> str:
    from alembic.util import CommandError

    ids = [s.revision for s in script.walk_revisions()]
    matches = [i for i in ids if i.startswith(spec)]
    if len(matches) > 1:
        raise ConfigError(f"revision prefix {spec!r} is ambiguous: {', '.join(sorted(matches))}")
    if not matches:
        close = difflib.get_close_matches(spec, ids, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see `inv db.history`"
        raise ConfigError(f"unknown revision {spec!r}", hint)
    try:
        return script.get_revision(matches[0]).revision
    except CommandError as exc:  # pragma: no cover - alembic agreed it exists above
        raise ConfigError(str(exc)) from None


@dataclass(frozen=True)
class HistoryRow:
    revision: Revision
    state: str  # "current", "applied" or "pending"

    def as_dict(self) -> dict[str, Any]:
        return {**self.revision.as_dict(), "state": self.state}


def history(
    script: ScriptDirectory, current: tuple[str, ...], rng: str | None = None
) -> list[HistoryRow]:
    """Revisions newest first, each marked current, applied or pending."""
    lower, upper = _parse_range(rng)
    done = applied(script, current)
    rows = []
    for s in script.walk_revisions(lower, upper):
        state = (
            "current" if s.revision in current else "applied" if s.revision in done else "pending"
        )
        rows.append(HistoryRow(Revision.of(s), state))
    return rows


def _parse_range(rng: str | None) -> tuple[str, str]:
    if not rng:
        return "base", "heads"
    if ":" not in rng:
        raise ConfigError(f"-r {rng!r} is not a range", "use LOWER:UPPER, e.g. base:head or abc1:")
    lower, _, upper = rng.partition(":")
    return lower.strip() or "base", upper.strip() or "heads"
