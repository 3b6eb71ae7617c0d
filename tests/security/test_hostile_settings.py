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
from dbtasks.health import probe
from dbtasks.migrations.onboard import Prepare
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
