"""The guard through the real `inv` command: the exit code a user sees, before any connection.

Commands aimed at another host run in a loopback-only network namespace. The libpq
environment tests stay on loopback: a listener on 127.0.0.2 stands in for the database
that PGHOSTADDR or a service definition would silently route to.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.security import (
    LOCAL_URL,
    REMOTE,
    clean_environ,
    fake_server,
    inv,
    output,
    tasks_project,
)
from tests.support import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tasks_project(tmp_path)


def external(**env: str) -> dict[str, str]:
    """A database dbtasks does not own: nothing is started, nothing waits long."""
    return clean_environ(
        DB_BACKEND="external", DB_PASS="not-the-secret", DB_HEALTH_TIMEOUT="1", **env
    )


def offline(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return inv(project, *args, env=external(**env), netns=True)


def test_query_host_override_is_exit_2_naming_host(project: Path) -> None:
    result = offline(project, "db.reset", "--yes", DATABASE_URL=f"{LOCAL_URL}?host={REMOTE}")
    assert result.returncode == 2, output(result)
    assert "'host'" in result.stderr


def test_query_port_cannot_reach_the_transaction_pooler(project: Path) -> None:
    url = f"postgresql://u:p@pooler.{REMOTE}:5432/app?port=6543"
    result = offline(project, "db.upgrade", DATABASE_URL=url)
    assert result.returncode == 2, output(result)
    assert "'port'" in result.stderr


def test_host_list_is_exit_2(project: Path) -> None:
    result = offline(project, "db.reset", "--yes", DB_HOST=f"127.0.0.1,{REMOTE}")
    assert result.returncode == 2, output(result)
    assert "several hosts" in result.stderr


def test_name_starting_with_127_is_remote_exit_4(project: Path) -> None:
    result = offline(project, "db.reset", "--yes", DB_HOST=f"127.{REMOTE}")
    assert result.returncode == 4, output(result)
    assert "--allow-remote" in result.stderr


@pytest.mark.parametrize(
    "command",
    [("db.reset", "--yes"), ("db.seed",), ("db.downgrade", "base", "--yes")],
    ids=["reset", "seed", "downgrade"],
)
@pytest.mark.parametrize("database", ["template0", "template1"])
def test_template_database_is_exit_2(
    project: Path, command: tuple[str, ...], database: str
) -> None:
    result = offline(project, *command, DB_HOST="127.0.0.1", DB_NAME=database)
    assert result.returncode == 2, output(result)
    assert database in result.stderr


def test_postgres_database_passes_the_guard(project: Path) -> None:
    # Nothing listens in the namespace: getting as far as the connection is the proof.
    result = offline(project, "db.seed", DB_HOST="127.0.0.1", DB_NAME="postgres")
    assert result.returncode == 1, output(result)
    assert "cannot reach" in result.stderr


def _service_file(directory: Path) -> Path:
    path = directory / "pg_service.conf"
    path.write_text("[decoy]\nhostaddr=127.0.0.2\n")
    return path


@pytest.mark.parametrize("routing", ["PGHOSTADDR", "PGSERVICEFILE", "PGSYSCONFDIR"])
def test_libpq_routing_environment_never_moves_the_target(
    project: Path, tmp_path: Path, routing: str
) -> None:
    port = free_port()  # nothing listens on 127.0.0.1 at this port
    service = _service_file(tmp_path)
    variables = {
        "PGHOSTADDR": {"PGHOSTADDR": "127.0.0.2"},
        "PGSERVICEFILE": {"PGSERVICEFILE": str(service), "PGSERVICE": "decoy"},
        "PGSYSCONFDIR": {"PGSYSCONFDIR": str(tmp_path), "PGSERVICE": "decoy"},
    }[routing]
    with fake_server("127.0.0.2", port) as decoy:
        env = external(DB_HOST="127.0.0.1", DB_PORT=str(port), **variables)
        result = inv(project, "db.health", env=env)
    assert decoy.connections == 0, "libpq was routed to the address the environment named"
    assert result.returncode == 1 and "127.0.0.1" in result.stderr, output(result)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    for name in variables:
        assert any(name in line for line in warnings), output(result)
