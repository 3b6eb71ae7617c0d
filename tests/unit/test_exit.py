"""A process that imported the task tree ends without the interpreter's last collections,
and with everything else of its exit as before: atexit handlers, flushed output, its code."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import atexit, gc, sys

def last():  # registered first, so it runs after every later one
    print("frozen at exit:", gc.get_freeze_count() > 0, flush=True)

atexit.register(last)
import dbtasks.tasks
import importlib
importlib.reload(dbtasks.tasks)  # imported twice: still one freeze
print("buffered, not flushed", end="")
sys.stderr.write("to stderr")
sys.exit(3)
"""


def test_the_exit_freezes_once_and_keeps_output_handlers_and_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 3
    assert result.stdout == "buffered, not flushedfrozen at exit: True\n"
    assert result.stderr == "to stderr"


def test_the_freeze_is_registered_once_however_often_the_tree_is_imported() -> None:
    code = (
        "import atexit, importlib, dbtasks.tasks; n = atexit._ncallbacks(); "
        "importlib.reload(dbtasks.tasks); print(atexit._ncallbacks() - n)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0"]
