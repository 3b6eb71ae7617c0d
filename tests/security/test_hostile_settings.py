"""Settings that could move a connection, split a password or turn into SQL.

- every stack dbtasks creates (native and compose) insists on SCRAM: nothing listening on
  its port while it is down receives the password;
- a database name libpq would read as a connection string is refused, and the `psql` line
  of `stack.status --show-password` quotes every value;
- a password with a line break or NUL is refused (initdb would keep its first line);
- a schema or user name with "%" or ":" stays a name: no placeholder is read in it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extensions import parse_dsn

from dbtasks.console import Console
from dbtasks.errors import ConfigError, HealthError
from dbtasks.flows.prepare import Prepare
from dbtasks.health import probe
from dbtasks.settings import Settings, load_settings
from dbtasks.workflow import execute
from tests.projects import make_project, write_chain
from tests.security import clean_environ, fake_server, inv, tasks_project

SECRET = "Hunter2pa55word"


@pytest.mark.parametrize("backend", ["native", "compose"])
def test_every_stack_dbtasks_creates_insists_on_scram(tmp_path: Path, backend: str) -> None:
    with fake_server("127.0.0.1") as server:
        env = {"DB_BACKEND": backend, "DB_PASS": SECRET, "DB_PORT": str(server.port)}
        settings = load_settings(environ=env, root=tmp_path)
        assert settings.endpoint.query.get("require_auth") == "scram-sha-256"
        with pytest.raises(HealthError):
            probe(settings.endpoint, connect_timeout=3)
    assert server.connections >= 1 and server.passwords == []


@pytest.mark.parametrize(
    "name",
    [
        "mindmirror host=127.0.0.2 port=58199",
        "dbname=other",
        "postgresql://127.0.0.2/x",
    ],
)
def test_a_database_name_read_as_a_connection_string_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"DB_NAME": name}, root=tmp_path)
    assert "connection string" in info.value.message
    quoted = name.replace(" ", "%20").replace("=", "%3D").replace("/", "%2F").replace(":", "%3A")
    with pytest.raises(ConfigError):
        load_settings(environ={"DATABASE_URL": f"postgresql://u@127.0.0.1/{quoted}"}, root=tmp_path)


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["my db", "it's", "back\\slash"])
def test_the_psql_line_connects_exactly_where_the_settings_say(tmp_path: Path, name: str) -> None:
    root = tasks_project(tmp_path)
    env = clean_environ(DB_NAME=name, DB_PORT="54398", DB_PASS=SECRET)
    result = inv(root, "stack.status", "--json", "--show-password", env=env)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)["psql"]
    conninfo = line.split(" psql ", 1)[1]
    import shlex

    parsed = parse_dsn(shlex.split(conninfo)[0])
    assert parsed["dbname"] == name and parsed["host"] == "127.0.0.1" and parsed["port"] == "54398"
    assert parsed["require_auth"] == "scram-sha-256"


@pytest.mark.parametrize("password", ["first\nsecond", "carriage\rreturn", "nul\0byte"])
def test_a_password_that_would_not_be_set_exactly_is_refused(tmp_path: Path, password: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"DB_PASS": password}, root=tmp_path)
    assert password not in info.value.render()


def test_a_nul_in_a_dotenv_password_is_one_line_exit_2(tmp_path: Path) -> None:
    root = tasks_project(tmp_path)
    (root / ".env").write_bytes(b"DB_PASS=abc\x00def\n")
    result = inv(root, "db.status", env=clean_environ())
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.integration
@pytest.mark.parametrize("schema", ["a%b", "a%(revision)s", "a:b", "a%%s"])
def test_a_schema_name_with_placeholders_stays_a_name(
    tmp_path: Path, cluster: Settings, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "ops%(revision)s:x")  # applied_by comes from it
    monkeypatch.setenv("LOGNAME", "ops%(revision)s:x")
    from dbtasks.migrations import journal

    journal.who.cache_clear()
    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 3)
    settings = project.settings(DB_SCHEMA=schema)
    final = execute(Prepare(), settings, Console(out=io.StringIO()))
    journal.who.cache_clear()
    assert final is not None and final.at_head
    conn = psycopg2.connect(**settings.endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), min(applied_by) FROM "
                + psycopg2.extensions.quote_ident(schema, cur)
                + ".dbtasks_revision_log"
            )
            count, who = cur.fetchone()
    finally:
        conn.close()
    assert count == 3 and who.startswith("ops%(revision)s:x")


@pytest.mark.parametrize("backend", ["native", "compose"])
def test_a_stack_dbtasks_runs_needs_a_loopback_host(tmp_path: Path, backend: str) -> None:
    """Its bootstrap (the baseline, the database it creates) must never reach a server
    that only pretends to be ours: a native or compose backend with another host is bad
    input, whatever the host resolves to."""
    env = {"DB_BACKEND": backend, "DB_HOST": "db.prod.example.invalid", "DB_PASS": SECRET}
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env, root=tmp_path)
    assert "this machine only" in info.value.message


@pytest.mark.parametrize(
    "label",
    ["production", "PROD", "prd", "live", "production-eu", "prod_us", "Production1", "prod\u200b"],
)
def test_every_spelling_of_production_is_production(tmp_path: Path, label: str) -> None:
    settings = load_settings(environ={"DB_ENV": label, "DB_PASS": SECRET}, root=tmp_path)
    assert settings.is_production


@pytest.mark.parametrize("label", ["development", "staging", "test", "ci", "preview"])
def test_other_labels_are_not_production(tmp_path: Path, label: str) -> None:
    settings = load_settings(environ={"DB_ENV": label, "DB_PASS": SECRET}, root=tmp_path)
    assert not settings.is_production


def test_the_version_table_cannot_be_placed_in_a_managed_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"DB_VERSION_SCHEMA": "auth", "DB_PASS": SECRET}, root=tmp_path)
    assert "DB_VERSION_SCHEMA" in info.value.message


@pytest.mark.e2e
@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "postgresql://u:pw-secret-1@127.0.0.1:54396/app?application_name=x"},
        {"DATABASE_URL": "host=127.0.0.1 port=54396 dbname=app application_name=x"},
        {"DB_SEED_CALLABLE": ".relative:thing"},
    ],
    ids=["url application_name", "key=value application_name", "relative seed callable"],
)
def test_more_hostile_input_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    root = tasks_project(tmp_path)
    (root / "seeds").mkdir()
    task = "db.seed" if "DB_SEED_CALLABLE" in env else "db.status"
    result = inv(root, task, env=clean_environ(DB_PORT="54396", **env))
    assert "Traceback" not in result.stderr and result.returncode in (1, 2), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "pw-secret-1" not in result.stderr


@pytest.mark.e2e
def test_bytes_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tasks_project(tmp_path)
    env = {k.encode(): v.encode() for k, v in clean_environ(DB_PORT="54395").items()}
    env[b"DB_PASS"] = b"caf\xe9-secret"
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "db.status"],
        cwd=root,
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    err = result.stderr.decode(errors="replace")
    assert result.returncode == 2 and "Traceback" not in err and "UTF-8" in err, err
    (root / "pyproject.toml").write_bytes(b"[tool.dbtasks]\nschema = 'caf\xe9'\n")
    again = inv(root, "db.status", env=clean_environ(DB_PORT="54395"))
    assert again.returncode == 2 and "UTF-8" in again.stderr, again.stderr
