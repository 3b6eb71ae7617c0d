"""Supabase rules and the compose backend through the real `inv` command."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.conftest import INV
from tests.support import REPO

pytestmark = pytest.mark.e2e


def inv(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    return subprocess.run(
        [*INV, *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_pooler_upgrade_is_refused_with_the_direct_connection_hint() -> None:
    url = "postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
    result = inv("db.upgrade", DATABASE_URL=url)
    assert result.returncode == 4
    assert "direct connection" in result.stderr
    assert "Traceback" not in result.stderr and ":p@" not in result.stderr


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker client")
def test_compose_without_an_engine_says_what_to_do() -> None:
    engine = subprocess.run(["docker", "info"], capture_output=True, check=False)
    if engine.returncode == 0:
        pytest.skip("a Docker engine runs here")
    result = inv("stack.up", DB_BACKEND="compose")
    assert result.returncode == 1
    assert "DB_BACKEND=native" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
