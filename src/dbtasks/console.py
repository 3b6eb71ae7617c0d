"""The one output sink: rich on a terminal, plain lines when piped, JSON for machines.

rich is imported only when a terminal is attached, so piped and `--json` runs (CI, the
benchmarks) never pay for it. `NO_COLOR` and `TERM=dumb` are honoured by rich itself.
A reader that closes the pipe early (`inv db.history --json | head -c 10`) only ends the
output: the command itself carries on and exits with its own code.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console as RichConsole


class _Sink(io.TextIOBase):
    """A stream that turns into /dev/null once its reader has gone away."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                self.stream.write(text)
            except (BrokenPipeError, ValueError):
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                self._gone()

    def _gone(self) -> None:
        self.closed_by_reader = True
        # Python flushes stdout once more at exit: point the descriptor at /dev/null so
        # that last flush has somewhere to go instead of printing a traceback.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def isatty(self) -> bool:
        return _isatty(self.stream)

    def fileno(self) -> int:
        return self.stream.fileno()


# Control characters (but line breaks and tabs) shown as escapes: text from elsewhere (a
# server log line an unauthenticated client wrote, a revision message) cannot drive the
# terminal it is shown on.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c not in (9, 10)}


def printable(text: str) -> str:
    return text.translate(_CONTROLS)


class Console:
    """Writes everything a task shows; library code receives one and never prints."""

    def __init__(
        self,
        json_mode: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.out: TextIO = _Sink(out or sys.stdout)  # type: ignore[assignment]
        self.err: TextIO = _Sink(err or sys.stderr)  # type: ignore[assignment]
        self.json_mode = json_mode
        self.interactive = not json_mode and _isatty(self.out)
        self.secrets = list(secrets)
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
        text = printable(text)
        if self.interactive and style:
            self.rich.print(text, style=style, markup=False)
        else:
            print(text, file=self.out, flush=True)

    def ok(self, text: str) -> None:
        self.line(f"✓ {text}", style="green")

    def step(self, text: str) -> None:
        self.line(f"→ {text}", style="cyan")

    def warn(self, text: str) -> None:
        from dbtasks.target import redact

        print(f"warning: {printable(redact(text, self.secrets))}", file=self.err, flush=True)

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
                table.add_row(*(printable(str(cell)) for cell in row))
            self.rich.print(table)
            return
        rows = [[printable(str(cell)) for cell in row] for row in rows]
        widths = [max([len(c), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns)]
        for row in (columns, *rows):
            print(
                "  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip(),
                file=self.out,
            )

    def json(self, payload: Any) -> None:
        import json

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
    def progress(
        self, labels: Sequence[str], done_verb: str, doing_verb: str
    ) -> Iterator[Callable[[float], None]]:
        """Yields `finished(seconds)`: the next of `labels` is done, having taken `seconds`.

        On a terminal a live bar names the one running; otherwise one line per label.
        """
        total = len(labels)
        count = 0

        def line() -> str:
            return f"[{count}/{total}] {done_verb} {labels[count - 1]}"

        if not self.interactive:

            def finished_plain(seconds: float) -> None:
                nonlocal count
                count += 1
                self.line(f"✓ {line()} ({seconds:.2f}s)")  # as on a terminal

            yield finished_plain
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
            task = bar.add_task(f"{doing_verb} {labels[0]}" if labels else "", total=total)

            def finished(seconds: float) -> None:
                nonlocal count
                count += 1
                bar.console.print(f"✓ {line()} ({seconds:.2f}s)", style="green", markup=False)
                following = f"{doing_verb} {labels[count]}" if count < total else ""
                bar.update(task, advance=1, description=following)

            yield finished


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
