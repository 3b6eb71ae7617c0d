"""Hosted Supabase rules: TLS by default, no migrations through the transaction pooler."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dbtasks.console import Console
from dbtasks.errors import ConfigError, ExitCode, Refused
from dbtasks.flows.author import Autogenerate, Init
from dbtasks.flows.migrate import Downgrade, Stamp, Upgrade
from dbtasks.flows.seed import Seed
from dbtasks.guard import Intent, check
from dbtasks.settings import load_settings
from dbtasks.workflow import execute

POOLER = "postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"


def test_hosted_host_gets_sslmode_require(tmp_path: Path) -> None:
    s = load_settings(environ={"DB_HOST": "db.abcdefghijklmnop.supabase.co"}, root=tmp_path)
    assert s.endpoint.query == {"sslmode": "require"}
    assert s.masked_url.endswith("?sslmode=require")


def test_explicit_sslmode_is_kept(tmp_path: Path) -> None:
    url = "postgresql://u:p@db.abcdefghijklmnop.supabase.co:5432/postgres?sslmode=verify-full"
    s = load_settings(environ={"DATABASE_URL": url}, root=tmp_path)
    assert s.endpoint.query == {"sslmode": "verify-full"}


def test_other_hosts_are_left_alone(tmp_path: Path) -> None:
    assert (
        load_settings(environ={"DB_HOST": "db.example.invalid"}, root=tmp_path).endpoint.query == {}
    )
    # Only dbtasks' own cluster gets the SCRAM requirement.
    assert load_settings(environ={}, root=tmp_path).endpoint.query == {
        "require_auth": "scram-sha-256"
    }


@pytest.mark.parametrize(
    "run",
    [
        lambda s: execute(Upgrade(), s, Console(out=io.StringIO())),
        lambda s: execute(Init(), s, Console(out=io.StringIO())),
        lambda s: execute(Downgrade("-1"), s, Console(out=io.StringIO()), yes=True),
        lambda s: execute(Stamp("base"), s, Console(out=io.StringIO()), yes=True),
        lambda s: execute(Seed(), s, Console(out=io.StringIO()), allow_remote=True),
        lambda s: execute(Autogenerate("add thing"), s, Console(out=io.StringIO())),
    ],
)
def test_transaction_pooler_is_refused_before_connecting(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        environ={"DATABASE_URL": POOLER, "DB_HEALTH_TIMEOUT": "0.1"}, root=tmp_path
    )
    with pytest.raises(Refused) as info:
        run(settings)
    assert info.value.exit_code == ExitCode.REFUSED
    assert "direct connection" in info.value.render()
    assert ":p@" not in info.value.render()


def test_session_pooler_port_is_not_the_transaction_pooler(tmp_path: Path) -> None:
    url = POOLER.replace(":6543/", ":5432/")
    check(load_settings(environ={"DATABASE_URL": url}, root=tmp_path), Intent.MIGRATE, "migrate")


@pytest.mark.parametrize("schema", ["auth", "storage", "extensions", "supabase_migrations"])
def test_managed_schema_cannot_be_db_schema(tmp_path: Path, schema: str) -> None:
    with pytest.raises(ConfigError, match="Supabase manages"):
        load_settings(environ={"DB_SCHEMA": schema}, root=tmp_path)
