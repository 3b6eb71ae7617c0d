"""No secret in the environment or command line of the processes dbtasks starts.

The native server runs for hours, as another user when dbtasks runs as root: whoever can
read its /proc entries (that user, or every daemon sharing `nobody`) must not find the
password there. initdb gets it through a private file, never an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security import clean_environ, inv, output, tasks_project
from tests.support import free_port, scratch_dir

pytestmark = pytest.mark.e2e

SECRET = "Hunter2pa55word"


def proc_text(pid: int, entry: str) -> str:
    return (Path("/proc") / str(pid) / entry).read_bytes().replace(b"\0", b"\n").decode()


@pytest.fixture
def started(request: pytest.FixtureRequest) -> Iterator[int]:
    """A fresh native cluster started with the password in the caller's environment, in
    the way the parameter names; yields the postmaster's pid."""
    with scratch_dir("procenv") as root:
        tasks_project(root)
        port = str(free_port())
        env = clean_environ(DB_PORT=port, DB_DATA_DIR=str(root / "pgdata"))
        if request.param == "DB_PASS":
            env["DB_PASS"] = SECRET
        else:
            env["DATABASE_URL"] = f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/app"
        try:
            up = inv(root, "stack.up", env=env)
            assert up.returncode == 0, output(up)
            yield int((root / "pgdata" / "postmaster.pid").read_text().split()[0])
        finally:
            inv(root, "stack.down", env=env)


@pytest.mark.parametrize(
    "started",
    [
        "DB_PASS",
        "DATABASE_URL",
    ],
    indirect=True,
)
def test_server_process_environment_holds_no_password(started: int) -> None:
    assert SECRET not in proc_text(started, "environ")


@pytest.mark.parametrize("started", ["DB_PASS"], indirect=True)
def test_server_command_line_holds_no_password(started: int) -> None:
    assert SECRET not in proc_text(started, "cmdline")
