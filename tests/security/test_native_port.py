"""A native cluster already running on another port than DB_PORT is named at once.

Waiting for health on the configured port would take the whole timeout and end with advice
(`inv stack.up`) that cannot help: the cluster is up, just elsewhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from dbtasks.console import Console
from dbtasks.errors import HealthError, StackError
from dbtasks.settings import Settings
from dbtasks.stack import ensure_ready
from dbtasks.stack.native import NativeStack
from tests.support import REPO, free_port, make_settings, scratch_dir, settings_env

pytestmark = pytest.mark.integration

INV = [sys.executable, "-m", "invoke"]
TIMEOUT = 20  # what a slow failure would take; a fast one takes well under a second


@pytest.fixture(scope="module")
def running() -> Iterator[Settings]:
    """A project whose cluster runs on one port, ready to be asked about another."""
    with scratch_dir("ports") as root:
        shutil.copy(REPO / "tasks.py", root / "tasks.py")
        (root / "pyproject.toml").write_text('[tool.dbtasks]\nschema = "mindmirror"\n')
        settings = make_settings(root, DB_HEALTH_TIMEOUT=TIMEOUT)
        stack = NativeStack(settings)
        stack.up(Console())
        try:
            yield settings
        finally:
            stack.down()


def elsewhere(settings: Settings) -> Settings:
    return make_settings(settings.project_root, DB_PORT=free_port(), DB_HEALTH_TIMEOUT=TIMEOUT)


def _up(settings: Settings) -> object:
    return NativeStack(settings).up(Console())


def _ensure_ready(settings: Settings) -> object:
    ensure_ready(settings, Console())
    return None


@pytest.mark.parametrize("start", [_up, _ensure_ready], ids=["stack.up", "db pre-step"])
def test_up_names_the_real_port_at_once(
    running: Settings, start: Callable[[Settings], object]
) -> None:
    wrong = elsewhere(running)
    began = time.monotonic()
    with pytest.raises(StackError) as info:
        start(wrong)
    assert time.monotonic() - began < 3
    assert not isinstance(info.value, HealthError)
    message = info.value.render()
    real, configured = running.endpoint.port, wrong.endpoint.port
    assert f"port {real}, not DB_PORT={configured}" in message
    assert f"set DB_PORT={real}" in message
    assert "inv stack.down" in message
    assert "\n" not in message


def test_status_shows_the_real_port_and_the_mismatch(running: Settings) -> None:
    wrong = elsewhere(running)
    status = NativeStack(wrong).status()
    assert status.running
    assert status.details["port"] == running.endpoint.port
    assert f"DB_PORT={wrong.endpoint.port}" in status.details["problem"]


def run_inv(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INV, *args],
        cwd=settings.project_root,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_up_fails_fast_with_exit_1(running: Settings) -> None:
    wrong = elsewhere(running)
    began = time.monotonic()
    result = run_inv(wrong, "stack.up")
    assert time.monotonic() - began < TIMEOUT / 2
    assert result.returncode == 1
    assert f"running on port {running.endpoint.port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_status_json_shows_the_real_port(running: Settings) -> None:
    wrong = elsewhere(running)
    report = json.loads(run_inv(wrong, "stack.status", "--json").stdout)
    assert report["port"] == running.endpoint.port
    assert f"DB_PORT={wrong.endpoint.port}" in report["problem"]


def test_down_still_stops_it(running: Settings) -> None:
    wrong = elsewhere(running)
    assert NativeStack(wrong).down() == "stopped"
    NativeStack(running).up(Console())
    assert NativeStack(wrong).status().details["port"] == running.endpoint.port
