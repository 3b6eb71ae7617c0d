"""Safety guards: nothing destructive happens without a confirmation."""

from __future__ import annotations

import sys
from collections.abc import Callable

from dbtasks.console import Console
from dbtasks.errors import Refused


def confirm(
    console: Console,
    action: str,
    yes: bool,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> None:
    """Proceed with `--yes`; ask on a terminal (default No); otherwise refuse (exit 4)."""
    if yes:
        return
    if not (sys.stdin.isatty() if interactive is None else interactive):
        raise Refused(
            f"refusing to {action} without --yes (stdin is not a terminal)", "re-run with --yes"
        )
    console.line(f"This will {action}.", style="bold yellow")
    if ask("Continue? [y/N] ").strip().lower() not in ("y", "yes"):
        raise Refused(f"cancelled: did not {action}")
