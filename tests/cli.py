"""The `inv` command, in this process: what most CLI tests run (invoke tests itself so).

`Program(namespace=...).run(argv)` with the project's directory as the working directory,
exactly the given environment, stdin not a terminal, and stdout and stderr captured. It
returns what `subprocess.run` would, so a test does not care which it got. An exception
that escapes is printed as Python would print it (a test asserting "no traceback" must
see it), with exit code 1.

Real subprocesses stay where the process is the point: signals, kill -9, start-up
imports, exit codes end to end (`ScratchProject.process`, `tests.security.inv`).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from unittest import mock

# os.environ, the working directory and sys.stdout are the process's: one run at a time.
_ONE_AT_A_TIME = threading.Lock()


class _Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_inv(
    root: Path, env: Mapping[str, str], argv: Sequence[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`inv ARGV` in `root`, in-process."""
    from invoke.program import Program

    from dbtasks import log
    from dbtasks.tasks import namespace

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with (
        _ONE_AT_A_TIME,
        mock.patch.dict(os.environ, dict(env), clear=True),
        contextlib.chdir(root),
        mock.patch.object(sys, "stdin", _Stdin(stdin or "")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            Program(namespace=namespace, name="inv", binary="inv").run(["inv", *argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # what an uncaught error prints, in a real process
            traceback.print_exc(file=err)
            code = 1
        finally:
            log.teardown()
    return subprocess.CompletedProcess(["inv", *argv], code, out.getvalue(), err.getvalue())
