"""No secret in an object's repr, a masked target or an error about a malformed setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbtasks.errors import DbTasksError
from dbtasks.settings import load_settings
from tests.security import REMOTE, leaked
from tests.support import HOSTILE_PASSWORD

SECRET = "Hunter2pa55word"  # long enough that no masked URL or message holds it by chance
ENCODED = "p%2540ss%3Aw%2Frd%23%3F%26%2B%3D%20x"  # HOSTILE_PASSWORD, percent-encoded


def error_of(tmp_path: Path, url: str) -> str:
    with pytest.raises(DbTasksError) as info:
        load_settings(environ={"DATABASE_URL": url}, root=tmp_path)
    return str(info.value)


@pytest.mark.parametrize(
    "env",
    [
        {"DB_PASS": HOSTILE_PASSWORD},
        {"DATABASE_URL": f"postgresql://u:{ENCODED}@127.0.0.1:5432/app"},
        {"DATABASE_URL": f"postgresql://u@127.0.0.1:5432/app?password={ENCODED}"},
        {"DATABASE_URL": f"host=127.0.0.1 dbname=app password='{HOSTILE_PASSWORD}'"},
        {"DATABASE_URL": f"postgresql://u:{ENCODED}@{REMOTE}:5432/app"},
    ],
    ids=["db-pass", "url", "url-query", "key-value", "remote"],
)
def test_repr_of_settings_and_endpoint_hold_no_password(
    tmp_path: Path, env: dict[str, str]
) -> None:
    settings = load_settings(environ=env, root=tmp_path)
    assert settings.endpoint.password == HOSTILE_PASSWORD  # the secret is there, unshown
    for text in (repr(settings), repr(settings.endpoint), str(settings), settings.masked_url):
        assert not leaked(text, HOSTILE_PASSWORD), text


def test_repr_holds_no_ssl_key_passphrase(tmp_path: Path) -> None:
    url = f"postgresql://u@127.0.0.1:5432/app?sslpassword={SECRET}"
    settings = load_settings(environ={"DATABASE_URL": url}, root=tmp_path)
    assert SECRET not in settings.masked_url
    assert SECRET not in repr(settings.endpoint)


@pytest.mark.parametrize(
    "url",
    [
        SECRET,  # a password pasted into the wrong setting
        f"{SECRET}@{REMOTE}",
        f"host=127.0.0.1 password='{SECRET}",  # unterminated quote
        f"host=127.0.0.1 dbname=app password={SECRET} nosuchkey=1",
        f"postgresql://admin:{SECRET}/app",  # no "@": nothing marks it as a password
        f"postgresql://admin:{SECRET}@127.0.0.1:99999/app",
        f"postgresql://127.0.0.1:99999/app?password={SECRET}",
        f"postgresql://127.0.0.1:5432/app?password={SECRET}&nosuchkey=1",
        f"mysql://admin:{SECRET}@127.0.0.1/app",
        f"postgresql://admin:{SECRET}@/app",
        f"postgresql://admin:{SECRET}@[::1:5432/app",  # an unclosed IPv6 bracket
    ],
    ids=["bare-word", "bare-at", "key-value-quote", "key-value-unknown", "url-without-at",
         "url-port", "query-port", "query-unknown", "scheme", "url-no-host", "url-ipv6"],
)  # fmt: skip
def test_malformed_database_url_is_never_echoed(tmp_path: Path, url: str) -> None:
    message = error_of(tmp_path, url)
    assert not leaked(message, SECRET), message
    assert "DATABASE_URL" in message


@pytest.mark.parametrize("password", [f"{SECRET}@Tr0ub4dor", f"Tr0ub4dor@{SECRET}@x"])
def test_unencoded_at_in_password_never_leaks(tmp_path: Path, password: str) -> None:
    url = f"postgresql://admin:{password}@{REMOTE}:5432/app"
    try:
        settings = load_settings(environ={"DATABASE_URL": url}, root=tmp_path)
    except DbTasksError as exc:
        message = str(exc)
    else:  # accepted: then the target shown must not hold a piece of it either
        message = f"{settings.masked_url} {settings.endpoint.host} {settings!r}"
    assert not leaked(message, password), message
