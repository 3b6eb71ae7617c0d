"""Stack backends behind one small interface: up, down, destroy, status, logs."""

from __future__ import annotations

from dataclasses import dataclass, field
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


class Stack(Protocol):
    """A place where the database runs; `up` returns only once a real query succeeds."""

    name: str

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


def ensure_ready(settings: Settings, console: Console, stack: Stack | None = None) -> None:
    """The pre-step of every db task: the stack is up and answers a real query."""
    stack = stack or get_stack(settings)
    result = stack.up(console)
    if result.changed:
        console.step(f"{stack.name} stack {result.message}")
