"""The run ledger: which member reached which revision in the last fleet upgrade, and why
any failed, so `--resume` continues where an interrupted run stopped and the report can
say exactly which members committed.

One JSON file under `.dbtasks/fleet/`, replaced atomically after every member finishes,
so a run killed at any moment leaves the ledger of the members that had finished.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from dbtasks.grants import FileGrant

FOLDER = Path(".dbtasks") / "fleet"
NAME = "last-run.json"
DONE = ("committed", "at head")  # states a resumed run does not repeat


@dataclass
class Entry:
    state: str  # committed, at head, failed, interrupted, not started
    current: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Ledger:
    revision: str
    members: dict[str, Entry]
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    finished: str | None = None

    def left(self) -> list[str]:
        """The members a resumed run still has to do, in the first run's order."""
        return [name for name, entry in self.members.items() if entry.state not in DONE]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def path_of(root: Path) -> Path:
    return root / FOLDER / NAME


@dataclass(frozen=True)
class Keeper:
    """Writes one project's ledger, with the grant to write it."""

    root: Path
    files: FileGrant

    @classmethod
    def of(cls, root: Path) -> Keeper:
        """The ledger is written inside the project, never through a link out of it."""
        from dbtasks import guard

        hint = "remove the link under .dbtasks"
        return cls(root, guard.files((root,), "keep the fleet run ledger", hint))

    def start(self, revision: str, names: list[str]) -> Ledger:
        ledger = Ledger(revision, {name: Entry("not started") for name in names})
        save(self.root, ledger, self.files)
        return ledger

    def save(self, ledger: Ledger) -> None:
        save(self.root, ledger, self.files)


def save(root: Path, ledger: Ledger, files: FileGrant) -> None:
    """Replace the ledger atomically; a name planted in the folder is never followed."""
    path = path_of(root)
    files.require(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.require(path)
    tmp = path.with_name(f"{NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(ledger.as_dict(), out, indent=1)
    os.replace(tmp, path)


def load(root: Path) -> Ledger:
    """The last run's ledger, for `--resume`."""
    path = path_of(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        members = {name: Entry(**entry) for name, entry in data["members"].items()}
        return Ledger(data["revision"], members, data["started"], data.get("finished"))
    except FileNotFoundError:
        raise ConfigError(
            "there is no fleet run to resume", "run `inv db.upgrade --all` (or --target/--group)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"the fleet run ledger {path} cannot be read",
            "delete it and run the upgrade again: members already at head are skipped",
        ) from None
