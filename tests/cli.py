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
from collections.abc import Iterator, Mapping, Sequence
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
    """`inv ARGV` in `root`, in-process: Invoke finds the project's tasks.py as `inv`
    would, and the project's own modules (models, revisions, a seed callable) are imported
    afresh by every run, as a new process would."""
    import invoke
    from invoke.program import Program

    from dbtasks import log

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with (
        _ONE_AT_A_TIME,
        _forgetting_modules_under(root),
        mock.patch.dict(os.environ, dict(env), clear=True),
        contextlib.chdir(root),
        mock.patch.object(sys, "stdin", _Stdin(stdin or "")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            Program(version=invoke.__version__).run(["inv", *argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # what an uncaught error prints, in a real process
            traceback.print_exc(file=err)
            code = 1
        finally:
            log.teardown()
    return subprocess.CompletedProcess(["inv", *argv], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _forgetting_modules_under(root: Path) -> Iterator[None]:
    """Modules imported from files under `root` (and the project's tasks.py) are dropped
    afterwards, so that the next run reads the files as they are then."""
    real = Path(os.path.realpath(root))
    try:
        yield
    finally:
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None) or ""
            if origin and Path(os.path.realpath(origin)).is_relative_to(real):
                del sys.modules[name]
