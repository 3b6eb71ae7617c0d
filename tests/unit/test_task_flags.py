"""Every task's flags: each has help text, none takes `-h` (help) or a bare dash."""

from __future__ import annotations

from collections.abc import Iterator

from invoke.collection import Collection
from invoke.tasks import Task

from dbtasks.tasks import namespace


def _tasks(collection: Collection, prefix: str = "") -> Iterator[tuple[str, Task]]:  # type: ignore[type-arg]
    for name, task in collection.tasks.items():
        yield prefix + name, task
    for name, child in collection.collections.items():
        yield from _tasks(child, f"{prefix}{name}.")


def test_no_flag_takes_h_or_a_dash_and_every_flag_has_help() -> None:
    seen = 0
    for name, task in _tasks(namespace):
        for argument in task.get_arguments():
            seen += 1
            shorts = [n for n in argument.names if len(n) == 1]
            assert "h" not in shorts and "-" not in shorts, (name, argument.names)
            assert argument.help, (name, argument.names)
    assert seen > 50
