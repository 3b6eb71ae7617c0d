"""The plugin's `dbtasks_url` sets search_path through libpq's `options`: no schema name can
add another server option to it."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from tests.projects import make_project, write_chain
from tests.security import moved

pytest_plugins = ["pytester"]

# The server splits `options` on any whitespace (isspace): every kind is escaped.
SCHEMAS = [
    "a b",
    "x -c y",
    "x -c work_mem=1234kB",
    'q"uote',
    "back\\slash",
    "back\\ slash",
    "tab\there",
    "x\n-cwork_mem=1234kB",
]


def split_like_the_server(options: str) -> list[str]:
    """How Postgres splits libpq's `options` into arguments (pg_split_opts): on unescaped
    whitespace, a backslash keeping the next character."""
    words: list[str] = []
    word, escaped, started = "", False, False
    for char in options:
        if escaped:
            word, escaped = word + char, False
        elif char == "\\":
            escaped = started = True
        elif char.isspace():
            if started:
                words.append(word)
            word, started = "", False
        else:
            word, started = word + char, True
    return [*words, word] if started else words


def unquote_identifier(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return text[1:-1].replace('""', '"')


@pytest.mark.parametrize("schema", SCHEMAS)
def test_search_path_option_is_one_argument_naming_exactly_the_schema(schema: str) -> None:
    option = moved(("dbtasks.pytest_plugin",), "search_path_option")(schema)
    words = split_like_the_server(option)
    assert len(words) == 1, words
    name, _, value = words[0].partition("=")
    assert name == "-csearch_path"
    assert unquote_identifier(value) == schema


INNER_TEST = """
from sqlalchemy import create_engine, text


def test_connection_sees_only_the_search_path(dbtasks_url):
    engine = create_engine(dbtasks_url)
    try:
        with engine.connect() as conn:
            path = conn.execute(text("SHOW search_path")).scalar()
            work_mem = conn.execute(text("SHOW work_mem")).scalar()
    finally:
        engine.dispose()
    assert work_mem != "1234kB"
    assert path == {expected!r}
"""
CONFTEST = """
from pathlib import Path

import pytest

from dbtasks.settings import load_settings


@pytest.fixture(scope="session")
def dbtasks_settings():
    return load_settings(environ={env!r}, root=Path({root!r}))
"""


@pytest.mark.e2e
@pytest.mark.parametrize(
    "schema",
    ["a b", "x -c work_mem=1234kB", "x\t-cwork_mem=1234kB"],
)
def test_real_connection_with_a_hostile_schema_name(
    pytester: pytest.Pytester, cluster: Settings, tmp_path: Path, schema: str
) -> None:
    project = make_project(tmp_path / "project", cluster)
    write_chain(project.versions, 1)
    env = {**project.env, "DB_SCHEMA": schema, "DB_NAME": f"plugsp_{uuid.uuid4().hex[:10]}"}
    pytester.makeconftest(CONFTEST.format(env=env, root=str(project.root)))
    expected = '"' + schema.replace('"', '""') + '"'
    pytester.makepyfile(test_inner=INNER_TEST.format(expected=expected))
    result = pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", timeout=180)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)
