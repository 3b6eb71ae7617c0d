"""The Supabase baseline is a project setting: plain Postgres unless the project is a
Supabase project (`DB_BASELINE=supabase`).

Two habits of real histories, on both settings: one creates pgcrypto itself and later
calls `digest()`; one creates uuid-ossp in schema public. On plain Postgres both apply;
on the Supabase baseline the first finds pgcrypto in `extensions` (on the search_path, as
on Supabase) and the second fails with a message that blames the baseline and names the
setting, not the revision file.
"""

from __future__ import annotations

import io
from pathlib import Path

import psycopg2
import pytest

from dbtasks.adapter.run import MigrationFailed
from dbtasks.console import Console
from dbtasks.flows.prepare import Prepare
from dbtasks.settings import Settings
from dbtasks.snapshot import fingerprint
from dbtasks.workflow import execute
from tests.projects import ScratchProject, make_project, revision_text

pytestmark = pytest.mark.integration

OWN_PGCRYPTO = (
    'op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")',
    "op.execute(\"CREATE TABLE hashed AS SELECT encode(digest('x', 'sha256'), 'hex') AS h\")",
)
UUID_IN_PUBLIC = ("op.execute('CREATE EXTENSION \"uuid-ossp\" WITH SCHEMA public')",)


def history(project: ScratchProject, *steps: str) -> None:
    for number, step in enumerate(steps, start=1):
        rev, down = f"h{number:03d}", (f"h{number - 1:03d}" if number > 1 else None)
        text = revision_text(rev, down, step, "pass", message=f"step {number}", second=number)
        (project.versions / f"{number:03d}_{rev}.py").write_text(text)


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    return make_project(tmp_path, cluster)


def prepare(project: ScratchProject, **env: str) -> None:
    execute(Prepare(), project.settings(**env), Console(out=io.StringIO(), err=io.StringIO()))


def scalar(settings: Settings, sql: str) -> object:
    conn = psycopg2.connect(**settings.endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("steps", [OWN_PGCRYPTO, UUID_IN_PUBLIC], ids=["pgcrypto", "uuid-ossp"])
def test_plain_postgres_takes_histories_that_create_their_extensions(
    project: ScratchProject, steps: tuple[str, ...]
) -> None:
    history(project, *steps)
    prepare(project)
    settings = project.settings()
    assert scalar(settings, "SELECT to_regnamespace('extensions')") is None
    assert scalar(settings, "SELECT to_regclass('auth.users')") is None
    assert scalar(settings, "SELECT count(*) FROM pg_roles WHERE rolname = 'anon'") in (0, 1)


def test_the_supabase_baseline_finds_its_extensions_on_the_search_path(
    project: ScratchProject,
) -> None:
    history(project, *OWN_PGCRYPTO)
    prepare(project, DB_BASELINE="supabase")
    settings = project.settings(DB_BASELINE="supabase")
    assert (
        scalar(
            settings,
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto'",
        )
        == "extensions"
    )
    assert scalar(settings, "SELECT count(*) FROM app.hashed") == 1
    assert scalar(settings, "SELECT to_regprocedure('auth.uid()')") is not None


def test_a_failure_the_baseline_causes_names_the_setting(project: ScratchProject) -> None:
    history(project, *UUID_IN_PUBLIC)
    with pytest.raises(MigrationFailed) as info:
        prepare(project, DB_BASELINE="supabase")
    text = info.value.render()
    assert "DB_BASELINE" in text and "Supabase baseline" in text
    assert "fix 001_h001.py" not in text


def test_the_snapshot_key_includes_the_baseline(project: ScratchProject) -> None:
    history(project, *OWN_PGCRYPTO)
    plain, supabase = project.settings(), project.settings(DB_BASELINE="supabase")
    from dbtasks.adapter.workspace import Workspace

    where = Workspace.open(plain, output=io.StringIO()).state.where
    assert fingerprint(plain, True, where) != fingerprint(supabase, True, where)
