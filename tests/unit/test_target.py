"""The connection target: libpq's parse, the one masking rule, loopback classification."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from dbtasks.errors import ConfigError, ExitCode
from dbtasks.target import Endpoint, from_url, is_loopback, redact
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


def test_repr_leaves_the_password_out() -> None:
    assert HOSTILE_PASSWORD not in repr(ENDPOINT)


def test_database_url_with_encoded_password_round_trips() -> None:
    text = ENDPOINT.sqlalchemy_url().render_as_string(hide_password=False)
    parsed = from_url(text)
    assert parsed.password == HOSTILE_PASSWORD
    assert parsed.port == 54322
    assert parsed.source == "DATABASE_URL"


def test_database_url_default_port() -> None:
    assert from_url("postgres://u:p@db.example.invalid/app").port == 5432


def test_key_value_connection_string() -> None:
    ep = from_url("host=127.0.0.1 port=5433 dbname=app user=me password='a b' sslmode=disable")
    assert (ep.host, ep.port, ep.database, ep.user, ep.password) == (
        "127.0.0.1",
        5433,
        "app",
        "me",
        "a b",
    )
    assert ep.query == {"sslmode": "disable"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("hunter2", "neither a postgresql:// URL nor a key=value"),
        ("mysql://u:pw@h/db", "the scheme must be postgresql://"),
        ("postgresql://u:pw@h:99999/db", "the port must be"),
        ("postgresql://u:pw@/db", "names no host"),
        ("postgresql://u:pw@h/", "names no database"),
        ("postgresql://u:pw@h/" + "d" * 64, "63-byte"),
    ],
)
def test_bad_urls_never_echo_themselves(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_url(text)
    assert why in info.value.render()
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert "pw" not in info.value.render() and "hunter2" not in info.value.render()


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://user:{HOSTILE_PASSWORD}@host/db",
        "postgresql://user:plain-secret@host:5432/db",
        "postgresql://user:pl@in-secret@host:5432/db",
    ],
)
def test_redact_urls(text: str) -> None:
    masked = redact(text)
    assert "user:***@host" in masked
    assert "plain-secret" not in masked and "in-secret" not in masked
    assert HOSTILE_PASSWORD not in masked


@pytest.mark.parametrize(
    "text",
    [
        "host=h password=plain-secret dbname=d",
        "host=h password='plain secret' dbname=d",
        "postgresql://h/d?sslmode=require&password=plain-secret",
        "postgresql://h/d?sslpassword=plain-secret",
        "PASSWORD = plain-secret",
    ],
)
def test_redact_password_keys(text: str) -> None:
    assert "plain" not in redact(text)


def test_redact_named_secrets_in_every_encoding() -> None:
    from urllib.parse import quote

    text = f"a {HOSTILE_PASSWORD} b {quote(HOSTILE_PASSWORD, safe='')} c"
    assert redact(text, [HOSTILE_PASSWORD]) == "a *** b *** c"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("127.db.example.invalid", False),
        ("localhost.example.invalid", False),
        ("db.example.invalid", False),
        ("0.0.0.0", False),  # noqa: S104 - classified, never bound
        ("::ffff:127.0.0.1", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
