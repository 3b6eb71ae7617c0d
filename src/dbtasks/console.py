"""The one output sink: rich on a terminal, plain lines when piped, JSON for machines.

rich is imported only when a terminal is attached, so piped and `--json` runs (CI, the
benchmarks) never pay for it. `NO_COLOR` and `TERM=dumb` are honoured by rich itself.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console as RichConsole


class Console:
    """Writes everything a task shows; library code receives one and never prints."""

    def __init__(
        self, json_mode: bool = False, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.json_mode = json_mode
        self.interactive = not json_mode and _isatty(self.out)
        self._rich: RichConsole | None = None

    @property
    def rich(self) -> RichConsole:
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(file=self.out, highlight=False)
        return self._rich

    def line(self, text: str = "", style: str | None = None) -> None:
        """A line of human output (suppressed in JSON mode so stdout stays parseable)."""
        if self.json_mode:
            return
        if self.interactive and style:
            self.rich.print(text, style=style, markup=False)
        else:
            print(text, file=self.out, flush=True)

    def ok(self, text: str) -> None:
        self.line(f"✓ {text}", style="green")

    def step(self, text: str) -> None:
        self.line(f"→ {text}", style="cyan")

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=self.err, flush=True)

    def fields(self, pairs: Sequence[tuple[str, object]]) -> None:
        """Aligned `key: value` lines."""
        width = max((len(k) for k, _ in pairs), default=0)
        for key, value in pairs:
            self.line(f"{key + ':':<{width + 1}} {value}")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        if self.json_mode:
            return
        if self.interactive:
            from rich.table import Table

            table = Table(*columns, box=None, header_style="bold")
            for row in rows:
                table.add_row(*(str(cell) for cell in row))
            self.rich.print(table)
            return
        widths = [max([len(c), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns)]
        for row in (columns, *rows):
            print(
                "  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip(),
                file=self.out,
            )

    def json(self, payload: Any) -> None:
        print(json.dumps(payload, indent=2, default=str), file=self.out, flush=True)

    @contextmanager
    def spinner(self, text: str) -> Iterator[None]:
        """A spinner on a terminal; a single line otherwise."""
        if self.interactive:
            with self.rich.status(text):
                yield
        else:
            yield

    @contextmanager
    def progress(self, total: int, verb: str) -> Iterator[Callable[[str], None]]:
        """Yields `advance(label)`: a bar with elapsed time on a terminal, else one line each."""
        started = time.perf_counter()
        done = 0

        def line(label: str) -> str:
            return f"[{done}/{total}] {verb} {label} ({time.perf_counter() - started:.2f}s)"

        if not self.interactive:

            def advance_plain(label: str) -> None:
                nonlocal done
                done += 1
                self.line(line(label))

            yield advance_plain
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.rich,
            transient=True,
        ) as bar:
            task = bar.add_task(verb, total=total)

            def advance(label: str) -> None:
                nonlocal done
                done += 1
                bar.console.print(f"✓ {line(label)}", style="green", markup=False)
                bar.update(task, advance=1)

            yield advance


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
