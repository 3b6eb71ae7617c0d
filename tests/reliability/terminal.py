"""Running `inv` the ways a person does: at a terminal, or into a pager that quits early."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import time

from tests.projects import INV, ScratchProject
from tests.reliability.outcome import Outcome

PROMPT = b"[y/N]"
SMALL_PIPE = 4096  # the kernel's minimum: a few KiB of output fill it


def answer_prompt_with_eof(project: ScratchProject, *args: str, timeout: float = 60) -> Outcome:
    """Run with stdin on a pseudo-terminal; at the confirmation prompt, press Ctrl-D."""
    primary, secondary = os.openpty()
    proc = subprocess.Popen(
        [*INV, *args],
        cwd=project.root,
        env=project.inv_env(),
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(secondary)
    try:
        shown = _read_until(proc, PROMPT, timeout)
        if PROMPT in shown:
            os.write(primary, b"\x04")  # the terminal's EOF character: Ctrl-D
        out, err = proc.communicate(timeout=timeout)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    return Outcome(proc.wait(), (shown + out).decode(), err.decode())


def _read_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float) -> bytes:
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    return seen


def read_then_close(project: ScratchProject, *args: str, keep: int = 10) -> Outcome:
    """Like `inv ... | head -c 10`: read `keep` bytes, then close the pipe for good."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, SMALL_PIPE)
    proc = subprocess.Popen(
        [*INV, *args],
        cwd=project.root,
        env=project.inv_env(),
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        head = os.read(read_end, keep)
    finally:
        os.close(read_end)
    _, err = proc.communicate(timeout=120)
    return Outcome(proc.returncode, head.decode(errors="replace"), err.decode())


def into_closed_pipe(project: ScratchProject, *args: str) -> Outcome:
    """Like `inv ... | true`: the reader is gone before the first byte is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [*INV, *args],
            cwd=project.root,
            env=project.inv_env(),
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    return Outcome(proc.returncode, "", proc.stderr.decode())
