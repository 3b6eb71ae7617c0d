"""The repository's docker-compose.yml: image, healthcheck, port, volume, documented vars."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from dbtasks.stack.compose import SERVICE, parse_ps
from tests.support import REPO

COMPOSE = (REPO / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE))


def test_image_is_supabase_postgres_pinned(spec: dict[str, Any]) -> None:
    image = spec["services"][SERVICE]["image"]
    assert re.fullmatch(r"supabase/postgres:\$\{SUPABASE_POSTGRES_TAG:-\d+\.\d+\.\d+\.\d+\}", image)


def test_healthcheck_runs_a_real_query_with_the_password(spec: dict[str, Any]) -> None:
    check = " ".join(spec["services"][SERVICE]["healthcheck"]["test"])
    assert "psql" in check and "select 1" in check and "POSTGRES_PASSWORD" in check


def test_port_is_db_port_on_loopback_to_5432(spec: dict[str, Any]) -> None:
    assert spec["services"][SERVICE]["ports"] == ["127.0.0.1:${DB_PORT:-54322}:5432"]


def test_password_and_database_come_from_settings(spec: dict[str, Any]) -> None:
    env = spec["services"][SERVICE]["environment"]
    assert env["POSTGRES_PASSWORD"] == "${DB_PASS:-postgres}"
    assert env["POSTGRES_DB"] == "${DB_NAME:-mindmirror}"


def test_named_volume_holds_the_data(spec: dict[str, Any]) -> None:
    assert "db-data:/var/lib/postgresql/data" in spec["services"][SERVICE]["volumes"]
    assert "db-data" in spec["volumes"]


def test_other_services_only_behind_profiles(spec: dict[str, Any]) -> None:
    others = {name: svc for name, svc in spec["services"].items() if name != SERVICE}
    assert others
    assert all(svc.get("profiles") for svc in others.values())


def test_every_variable_is_documented() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE))
    example = (REPO / ".env.example").read_text()
    assert {v for v in used if f"{v}=" not in example} == set()


@pytest.mark.parametrize(
    "text",
    [
        '[{"Service": "db", "State": "running"}]',
        '{"Service": "db", "State": "running"}\n{"Service": "meta", "State": "exited"}\n',
    ],
)
def test_parse_ps_both_formats(text: str) -> None:
    assert parse_ps(text)[0] == {"Service": "db", "State": "running"}


def test_parse_ps_empty() -> None:
    assert parse_ps("\n") == []
