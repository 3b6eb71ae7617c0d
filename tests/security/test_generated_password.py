"""No well-known password: a new native cluster gets a generated one, kept 0600 in
`.dbtasks/password`, used by every command and shown only on request; connections to the
native cluster accept nothing weaker than SCRAM, so the password never travels in clear."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from dbtasks.errors import DbTasksError, HealthError
from dbtasks.health import probe
from dbtasks.settings import Settings, load_settings
from tests.security import clean_environ, fake_server, inv, output, tasks_project
from tests.support import free_port, scratch_dir

SECRET = "Hunter2pa55word"


def native(root: Path, **env: str) -> Settings:
    return load_settings(environ={"DB_PORT": "54399", **env}, root=root)


def password_file(root: Path) -> Path:
    return root / ".dbtasks" / "password"


def test_new_cluster_gets_a_generated_password_in_a_private_file(tmp_path: Path) -> None:
    settings = native(tmp_path)
    path = password_file(tmp_path)
    assert settings.endpoint.password not in ("", "postgres")
    assert len(settings.endpoint.password) >= 20
    assert path.read_text().strip() == settings.endpoint.password
    assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    # Others may pass through (the server account reaches the data directory inside it)
    # but neither list nor write it.
    assert stat.S_IMODE(path.parent.lstat().st_mode) & 0o066 == 0


def test_generated_password_is_stable_and_differs_per_project(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = native(tmp_path / "a").endpoint.password
    assert native(tmp_path / "a").endpoint.password == first
    assert native(tmp_path / "b").endpoint.password != first


def test_explicit_postgres_password_is_kept(tmp_path: Path) -> None:
    assert native(tmp_path, DB_PASS="postgres").endpoint.password == "postgres"
    assert not password_file(tmp_path).exists()


@pytest.mark.parametrize("dangling", [False, True])
def test_password_file_is_never_followed_through_a_symlink(tmp_path: Path, dangling: bool) -> None:
    elsewhere = tmp_path / "elsewhere"
    if not dangling:
        elsewhere.write_text("attacker-chosen\n")
    password_file(tmp_path).parent.mkdir()
    password_file(tmp_path).symlink_to(elsewhere)
    with pytest.raises(DbTasksError) as info:
        native(tmp_path)
    assert info.value.exit_code == 2
    assert elsewhere.exists() is not dangling  # nothing was written through the link
    if not dangling:
        assert elsewhere.read_text() == "attacker-chosen\n"


@pytest.mark.parametrize(
    "env",
    [
        {"DB_HOST": "127.0.0.1"},
        {"DB_HOST": "localhost"},
        {"DATABASE_URL": "postgresql://postgres:{secret}@127.0.0.1:{port}/app"},
    ],
    ids=["db-host", "localhost", "url"],
)
def test_native_connections_never_send_the_password_in_clear(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with fake_server("127.0.0.1") as server:
        filled = {k: v.format(secret=SECRET, port=server.port) for k, v in env.items()}
        settings = native(tmp_path, DB_PASS=SECRET, DB_PORT=str(server.port), **filled)
        assert settings.backend == "native"
        with pytest.raises(HealthError):
            probe(settings.endpoint, connect_timeout=3)
    assert server.connections >= 1  # it did connect, and was asked for a cleartext password
    assert server.passwords == []


# -- a real new cluster (slow: initdb) ------------------------------------------------------


@pytest.fixture
def fresh() -> Iterator[tuple[Path, dict[str, str]]]:
    """A project without DB_PASS whose cluster does not exist yet; stopped afterwards."""
    with scratch_dir("password") as root:
        tasks_project(root)
        env = clean_environ(DB_PORT=str(free_port()), DB_DATA_DIR=str(root / "pgdata"))
        try:
            yield root, env
        finally:
            inv(root, "stack.down", env=env)


def connects(port: int, password: str) -> bool:
    try:
        psycopg2.connect(
            host="127.0.0.1", port=port, user="postgres", password=password, dbname="postgres"
        ).close()
    except psycopg2.OperationalError:
        return False
    return True


@pytest.mark.e2e
def test_fresh_cluster_uses_the_generated_password_and_shows_it_on_request(
    fresh: tuple[Path, dict[str, str]],
) -> None:
    root, env = fresh
    up = inv(root, "stack.up", env=env)
    assert up.returncode == 0, output(up)
    password = password_file(root).read_text().strip()
    port = int(env["DB_PORT"])
    assert not connects(port, "postgres")
    assert connects(port, password)
    assert inv(root, "db.health", env=env).returncode == 0
    for args in (("stack.status",), ("stack.status", "--json"), ("stack.up",)):
        assert password not in output(inv(root, *args, env=env))
    shown = inv(root, "stack.status", "--show-password", env=env)
    assert shown.returncode == 0 and password in shown.stdout, output(shown)


@pytest.mark.e2e
def test_explicit_postgres_password_still_works(fresh: tuple[Path, dict[str, str]]) -> None:
    root, env = fresh
    env["DB_PASS"] = "postgres"
    up = inv(root, "stack.up", env=env)
    assert up.returncode == 0, output(up)
    assert connects(int(env["DB_PORT"]), "postgres")
    assert not password_file(root).exists()


@pytest.mark.e2e
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_fresh_cluster_in_the_default_data_directory_starts_as_root(
    fresh: tuple[Path, dict[str, str]],
) -> None:
    root, env = fresh
    del env["DB_DATA_DIR"]
    up = inv(root, "stack.up", env=env)
    assert up.returncode == 0, output(up)
