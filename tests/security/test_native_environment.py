"""Server processes get a minimal environment.

Anything running as the server account can read `/proc/PID/environ` of the postmaster and
its children, and whatever initdb and pg_ctl were given: secrets of the caller must not be
there.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from dbtasks import shell
from dbtasks.console import Console
from dbtasks.settings import Settings
from dbtasks.stack import cluster
from dbtasks.stack.binaries import find_binaries
from dbtasks.stack.native import NativeStack
from tests.support import destroy, make_settings

pytestmark = pytest.mark.integration

SENTINELS = {
    "DB_PASS": "sentinel-db-pass-71",
    "DATABASE_URL": "postgresql://app:sentinel-url-pass-72@db.example/app",
    "SOME_SECRET": "sentinel-some-secret-73",
    "PGPASSWORD": "sentinel-pgpassword-74",
    "AWS_SECRET_ACCESS_KEY": "sentinel-aws-75",
}
ALLOWED = {"PATH", "LANG", "LC_ALL", "TZ", "HOME", "USER", "LOGNAME"}
# Set by the Postgres tools themselves (pg_ctl, initdb, the postmaster) or by the /bin/sh
# that pg_ctl starts the postmaster with: not ours to hand out, and never a secret.
ADDED_BY_POSTGRES = {"PGDATA", "PGLOCALEDIR", "PGSYSCONFDIR", "PG_GRANDPARENT_PID", "PWD"}


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SENTINELS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TZ", "Europe/Paris")


def server_account(settings: Settings) -> pwd.struct_passwd:
    return (
        pwd.getpwnam(settings.native_user) if settings.native_user else pwd.getpwuid(os.geteuid())
    )


def assert_minimal(env: dict[str, str], settings: Settings) -> None:
    for value in SENTINELS.values():
        assert all(value not in v for v in env.values())
    assert set(env) <= ALLOWED | ADDED_BY_POSTGRES, sorted(set(env) - ALLOWED)
    account = server_account(settings)
    assert env["HOME"] == account.pw_dir
    assert env["USER"] == env["LOGNAME"] == account.pw_name
    assert (env["LANG"], env["LC_ALL"], env["TZ"]) == ("C", "C", "Europe/Paris")
    assert env["PATH"] == os.environ["PATH"]


def read_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def parse_env_dump(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.mark.usefixtures("secrets_in_env")
def test_postmaster_environment_holds_no_secrets(scratch: Path) -> None:
    stack = NativeStack(make_settings(scratch))
    stack.up(Console())
    try:
        found = cluster.running(stack.settings.data_dir)
        assert found is not None
        assert_minimal(read_environ(found.pid), stack.settings)
    finally:
        destroy(stack)


@pytest.mark.usefixtures("secrets_in_env")
def test_initdb_and_pg_ctl_get_a_minimal_environment(scratch: Path) -> None:
    real = find_binaries().bindir
    fake, dumps = scratch / "bin", scratch / "dumps"
    fake.mkdir()
    dumps.mkdir(mode=0o777)
    dumps.chmod(0o777)  # the wrappers run as the server account
    for tool in ("initdb", "pg_ctl"):
        wrapper = fake / tool
        wrapper.write_text(f'#!/bin/sh\nenv > "{dumps}/{tool}-$$"\nexec "{real / tool}" "$@"\n')
        wrapper.chmod(0o755)
    (fake / "postgres").symlink_to(real / "postgres")
    stack = NativeStack(make_settings(scratch, DB_PG_BINDIR=str(fake)))
    stack.up(Console())
    stack.down()
    try:
        seen = sorted(dumps.iterdir())
        assert {p.name.split("-")[0] for p in seen} == {"initdb", "pg_ctl"}
        for dump in seen:
            assert_minimal(parse_env_dump(dump.read_text()), stack.settings)
    finally:
        destroy(stack)


@pytest.mark.usefixtures("secrets_in_env")
def test_the_shell_seam_passes_only_the_server_environment(scratch: Path) -> None:
    settings = make_settings(scratch)
    result = shell.run(["env"], user=settings.native_user, env=cluster.server_env())
    env = parse_env_dump(result.stdout)
    assert_minimal(env, settings)
    assert set(env) <= ALLOWED
