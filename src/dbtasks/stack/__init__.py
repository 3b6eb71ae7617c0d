"""Stack backends behind one small interface: up, down, destroy, status, logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dbtasks.console import Console
    from dbtasks.grants import Grant
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

    # up/down/destroy manage a server dbtasks made: it gets a generated password when
    # DB_PASS is unset, and every connection to it insists on SCRAM, so the password never
    # goes in the clear to whatever else listens on its port while it is down.
    owns_server: bool
    reset: ResetMode
    snapshots: bool  # template-database snapshots apply
    # initdb makes the server on this machine: DB_USER becomes its superuser, and as root
    # it runs as an unprivileged account (DB_NATIVE_USER).
    local_cluster: bool = False

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

    def destroy(self, grant: Grant) -> str: ...

    def status(self) -> StackStatus: ...

    def logs(self, lines: int) -> str: ...

    def describe_destroy(self) -> str: ...


def backend_class(name: str) -> Any:
    """The class of the backend `DB_BACKEND` names (its module is imported only now)."""
    if name == "native":
        from dbtasks.stack.native import NativeStack

        return NativeStack
    if name == "external":
        from dbtasks.stack.external import ExternalStack

        return ExternalStack
    from dbtasks.stack.compose import ComposeStack

    return ComposeStack


def capabilities_of(name: str) -> Capabilities:
    found: Capabilities = backend_class(name).capabilities
    return found


def choose_backend(chosen: str, host: str) -> str:
    """`DB_BACKEND=auto`: a loopback host gets a cluster of its own, anything else is a
    database dbtasks does not own."""
    from dbtasks.target import is_loopback

    if chosen != "auto":
        return chosen
    return "native" if is_loopback(host) else "external"


def get_stack(settings: Settings) -> Stack:
    """The backend that `DB_BACKEND` names."""
    stack: Stack = backend_class(settings.backend)(settings)
    return stack


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
