"""The guard checks the endpoint libpq really uses: classified from settings, no connection.

A URL's query, a host list or a host that merely starts like a loopback address must not
make a remote database look like this machine's.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.security import HOSTED, LOCAL_URL, REMOTE, UNSPECIFIED, verdict

REFUSED, BAD_INPUT = 4, 2
ROUTING = {
    "host": REMOTE,
    "hostaddr": UNSPECIFIED,
    "port": "6543",
    "dbname": "other",
    "user": "other",
    "service": "prod",
    "servicefile": "/etc/postgresql-common/pg_service.conf",
}


@pytest.mark.parametrize("key", list(ROUTING))
def test_routing_key_in_url_query_is_bad_input(tmp_path: Path, key: str) -> None:
    found = verdict(tmp_path, {"DATABASE_URL": f"{LOCAL_URL}?{key}={quote(ROUTING[key])}"})
    assert found.code == BAD_INPUT, found


@pytest.mark.parametrize(
    "key",
    [
        *ROUTING,
    ],
)
def test_refusal_names_the_routing_key(tmp_path: Path, key: str) -> None:
    found = verdict(tmp_path, {"DATABASE_URL": f"{LOCAL_URL}?{key}={quote(ROUTING[key])}"})
    assert found.code == BAD_INPUT and re.search(rf"\b{key}\b", found.message), found


@pytest.mark.parametrize(
    "url",
    [
        f"{LOCAL_URL}?%68ost={REMOTE}",  # a percent-encoded key is still "host" to libpq
        f"{LOCAL_URL}?sslmode=require&host={REMOTE}",
        f"postgresql:///app?host={REMOTE}",
        f"postgresql://u:p@localhost/app?host={REMOTE}&port=5432",
    ],
)
def test_disguised_query_override_is_bad_input(tmp_path: Path, url: str) -> None:
    assert verdict(tmp_path, {"DATABASE_URL": url}).code == BAD_INPUT


@pytest.mark.parametrize("key", ["hostaddr", "service"])
def test_routing_key_in_key_value_string_is_bad_input(tmp_path: Path, key: str) -> None:
    found = verdict(tmp_path, {"DATABASE_URL": f"host=127.0.0.1 dbname=app {key}=x"})
    assert found.code == BAD_INPUT and key in found.message, found


def test_key_value_string_is_judged_by_the_host_libpq_keeps(tmp_path: Path) -> None:
    # libpq keeps the last of repeated keys: the remote one.
    text = f"host=127.0.0.1 dbname=app host={REMOTE}"
    assert verdict(tmp_path, {"DATABASE_URL": text}).code == REFUSED


@pytest.mark.parametrize(
    "env",
    [
        {"DB_HOST": f"127.0.0.1,{REMOTE}"},
        {"DB_HOST": f"{REMOTE},127.0.0.1"},
        {"DB_HOST": f"127.0.0.1 {REMOTE}"},
        {"DATABASE_URL": f"postgresql://u:p@127.0.0.1,{REMOTE}/app"},
        {"DATABASE_URL": f"postgresql://u:p@127.0.0.1:5432,{REMOTE}:5432/app"},
        {"DATABASE_URL": f"host=127.0.0.1,{REMOTE} dbname=app"},
    ],
    ids=["db-host", "db-host-remote-first", "db-host-space", "url", "url-ports", "key-value"],
)
def test_host_list_is_bad_input(tmp_path: Path, env: dict[str, str]) -> None:
    assert verdict(tmp_path, env).code == BAD_INPUT


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@127.0.0.1,127.0.0.2:5/app", "postgresql://u:p@127.0.0.1:5,127.0.0.2/app"],
)
def test_a_url_host_list_is_named_as_one_whatever_its_ports(tmp_path: Path, url: str) -> None:
    found = verdict(tmp_path, {"DATABASE_URL": url})
    assert found.code == BAD_INPUT and "several hosts" in found.message, found


@pytest.mark.parametrize(
    "host",
    [
        f"127.{REMOTE}",
        f"127.0.0.1.{REMOTE}",
        f"localhost.{REMOTE}",
        UNSPECIFIED,
    ],
)
def test_names_that_only_look_local_are_remote(tmp_path: Path, host: str) -> None:
    assert verdict(tmp_path, {"DB_HOST": host}).code == REFUSED
    assert verdict(tmp_path, {"DB_HOST": host}, allow_remote=True).code == 0


def test_fully_qualified_localhost_is_not_taken_for_this_machine(tmp_path: Path) -> None:
    assert verdict(tmp_path, {"DB_HOST": "localhost."}).code == REFUSED


def test_url_host_that_only_looks_local_is_remote(tmp_path: Path) -> None:
    url = f"postgresql://u:p@127.{REMOTE}:5432/app"
    assert verdict(tmp_path, {"DATABASE_URL": url}).code == REFUSED


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_stay_allowed(tmp_path: Path, host: str) -> None:
    assert verdict(tmp_path, {"DB_HOST": host}).code == 0


@pytest.mark.parametrize(
    "query",
    [
        "sslmode=require",
        "connect_timeout=3",
        "application_name=x%26host%3Ddb.prod.example.invalid",  # a value, not a key
        "options=-c%20statement_timeout%3D5s",
        "sslmode=disable&connect_timeout=3&application_name=app",
    ],
)
def test_plain_options_stay_allowed(tmp_path: Path, query: str) -> None:
    found = verdict(tmp_path, {"DATABASE_URL": f"{LOCAL_URL}?{query}"})
    assert found.code == 0, found


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": f"{LOCAL_URL}?host={HOSTED}"},
        {"DATABASE_URL": f"postgresql://u:p@127.0.0.1,{HOSTED}/app"},
        {"DB_HOST": f"127.0.0.1,{HOSTED}"},
        {"DATABASE_URL": f"{LOCAL_URL}?host=pooler.{REMOTE}&port=6543"},
        {"DATABASE_URL": f"postgresql://u:p@pooler.{REMOTE}:5432/app?port=6543"},
        {"DB_HOST": f"127.0.0.1,pooler.{REMOTE}", "DB_PORT": "6543"},
    ],
    ids=["hosted-query", "hosted-url-list", "hosted-db-host-list", "pooler-query-host",
         "pooler-query-port", "pooler-db-host-list"],
)  # fmt: skip
def test_hosted_and_pooler_rules_cannot_be_bypassed(tmp_path: Path, env: dict[str, str]) -> None:
    found = verdict(tmp_path, env, allow_remote=True)
    assert found.code in (BAD_INPUT, REFUSED), found


@pytest.mark.parametrize("host", [HOSTED.upper(), f"{HOSTED}.", f"pooler.{REMOTE}:6543"])
def test_hosted_spellings_are_refused_even_with_allow_remote(tmp_path: Path, host: str) -> None:
    name, _, port = host.partition(":")
    env = {"DB_HOST": name, **({"DB_PORT": port} if port else {})}
    assert verdict(tmp_path, env, allow_remote=True).code == REFUSED


@pytest.mark.parametrize(
    "env",
    [
        {"DB_NAME": "template0"},
        {"DB_NAME": "template1"},
        {"DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/template1"},
    ],
)
def test_template_databases_are_never_the_target(tmp_path: Path, env: dict[str, str]) -> None:
    found = verdict(tmp_path, env)
    assert found.code == BAD_INPUT and "template" in found.message, found


def test_postgres_database_stays_allowed(tmp_path: Path) -> None:
    assert verdict(tmp_path, {"DB_NAME": "postgres"}).code == 0
