"""Stack backends behind one small interface: up, down, destroy, status, logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.settings import Settings


@dataclass
class StackStatus:
    """What `stack.status` shows; `details` keeps its insertion order for display."""

    backend: str
    running: bool
    url: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "running": self.running, "url": self.url, **self.details}


@dataclass(frozen=True)
class UpResult:
    """What `up` did: `changed` is False when the stack was already running and healthy."""

    changed: bool
    message: str


class ResetMode(Enum):
    """What `db.reset` does on a backend."""

    CLONE = "clone"  # drop the database, clone it from a template snapshot
    RECREATE = "recreate"  # throw the stack's storage away, start again, migrate, seed
    SCHEMA = "schema"  # drop and recreate DB_SCHEMA only: the database is not ours


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so that no code outside this package tests its name."""

    owns_server: bool  # up/down/destroy manage a server of its own
    reset: ResetMode
    snapshots: bool  # template-database snapshots apply

    def destroyed_by_reset(self, database: str, schema: str) -> str:
        if self.reset is ResetMode.SCHEMA:
            return f"schema {schema!r} of database {database!r} and all its data"
        if self.reset is ResetMode.RECREATE:
            return f"the stack's storage: every database in it, including {database!r}"
        return f"database {database!r} and all its data"


class Stack(Protocol):
    """A place where the database runs; `up` returns only once a real query succeeds."""

    name: str
    capabilities: Capabilities

    def up(self, console: Console) -> UpResult: ...

    def down(self) -> str: ...

    def destroy(self) -> str: ...

    def status(self) -> StackStatus: ...

    def logs(self, lines: int) -> str: ...

    def describe_destroy(self) -> str: ...


def get_stack(settings: Settings) -> Stack:
    """The backend that `DB_BACKEND` names."""
    if settings.backend == "native":
        from dbtasks.stack.native import NativeStack

        return NativeStack(settings)
    if settings.backend == "external":
        from dbtasks.stack.external import ExternalStack

        return ExternalStack(settings)
    from dbtasks.stack.compose import ComposeStack

    return ComposeStack(settings)


def ensure_ready(settings: Settings, console: Console, stack: Stack | None = None) -> Stack:
    """The pre-step of every command that changes the database: the stack is up and the
    database answers a real query (created the first time)."""
    import logging

    from dbtasks import log

    stack = stack or get_stack(settings)
    result = stack.up(console)
    name = "stack.started" if result.changed else "stack.running"
    log.event(logging.getLogger("dbtasks.stack"), name, f"{stack.name} stack {result.message}")
    if result.changed:
        console.step(f"{stack.name} stack {result.message}")
    return stack
