"""URL building and masking with a password holding every URL-special character."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from dbtasks.urls import Endpoint, is_loopback, mask_text, parse_database_url
from tests.support import HOSTILE_PASSWORD

ENDPOINT = Endpoint("127.0.0.1", 54322, "postgres", HOSTILE_PASSWORD, "mindmirror")


def test_sqlalchemy_url_keeps_password() -> None:
    url = ENDPOINT.sqlalchemy_url()
    assert url.password == HOSTILE_PASSWORD
    rendered = url.render_as_string(hide_password=False)
    assert make_url(rendered).password == HOSTILE_PASSWORD


def test_masked_hides_password() -> None:
    assert ENDPOINT.masked() == "postgresql://postgres:***@127.0.0.1:54322/mindmirror"


def test_masked_shows_query_and_ipv6() -> None:
    ep = Endpoint("::1", 5432, "a b", "pw", "db", {"sslmode": "require"})
    assert ep.masked() == "postgresql://a%20b:***@[::1]:5432/db?sslmode=require"


def test_connect_kwargs_carry_password_unescaped() -> None:
    assert ENDPOINT.connect_kwargs()["password"] == HOSTILE_PASSWORD
    assert ENDPOINT.connect_kwargs("postgres")["dbname"] == "postgres"


def test_database_url_with_encoded_password_round_trips() -> None:
    text = ENDPOINT.sqlalchemy_url().render_as_string(hide_password=False)
    parsed = parse_database_url(text.replace("postgresql+psycopg2", "postgresql"))
    assert parsed.password == HOSTILE_PASSWORD
    assert parsed.port == 54322


def test_database_url_default_port() -> None:
    assert parse_database_url("postgres://u:p@db.example.com/app").port == 5432


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://user:{HOSTILE_PASSWORD}@host/db",
        "postgresql://user:plain@host:5432/db",
    ],
)
def test_mask_text(text: str) -> None:
    masked = mask_text(text)
    assert "user:***@host" in masked
    assert "plain" not in masked
    assert HOSTILE_PASSWORD not in masked


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("db.example.com", False),
        ("10.0.0.1", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
