"""`db.reset`, seeds and snapshots on real databases."""

from __future__ import annotations

import io

import psycopg2
import pytest

from dbtasks import guard, pg
from dbtasks.console import Console
from dbtasks.errors import Refused
from dbtasks.flows.reset import ResetOptions, reset
from dbtasks.guard import Intent
from dbtasks.seeds import SeedFailed, apply_seeds
from dbtasks.stack import ensure_ready
from tests import flows as commands
from tests.projects import ScratchProject

pytestmark = pytest.mark.integration
YES = ResetOptions(yes=True)


def quiet() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


def sql(project: ScratchProject, statement: str, **env: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(**project.settings(**env).endpoint.connect_kwargs())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def new_profile(table: str, name: str) -> str:
    """SQL adding a Supabase user and its profile (profiles.id references auth.users)."""
    return (
        f"WITH u AS (INSERT INTO auth.users DEFAULT VALUES RETURNING id) "
        f"INSERT INTO {table} (id, display_name) SELECT id, '{name}' FROM u"
    )


def profiles(project: ScratchProject) -> int:
    (count,) = sql(project, "SELECT count(*) FROM app.profiles")[0]
    return int(str(count))


def test_reset_gives_head_and_seed_rows(mindmirror: ScratchProject) -> None:
    assert reset(mindmirror.settings(), quiet(), YES).startswith("rebuilt")
    assert profiles(mindmirror) == 2
    assert commands.current_status(mindmirror.settings(), quiet()).at_head
    sql(mindmirror, new_profile("app.profiles", "scratch"))
    assert reset(mindmirror.settings(), quiet(), YES).startswith("reset from snapshot")
    assert profiles(mindmirror) == 2


def test_refused_reset_touches_nothing(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), YES)
    sql(mindmirror, new_profile("app.profiles", "keep me"))
    with pytest.raises(Refused):  # stdin is not a terminal under pytest
        reset(mindmirror.settings(), quiet(), ResetOptions(yes=False))
    assert profiles(mindmirror) == 3


def test_reset_after_model_change_and_new_revision(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), YES)
    models = (mindmirror.root / f"{mindmirror.module}.py").read_text()
    anchor = "    display_name: Mapped[str] = mapped_column(String(80), nullable=False)\n"
    mindmirror.write_models(
        models.replace(
            anchor, anchor + "    pronouns: Mapped[str | None] = mapped_column(String(40))\n"
        )
    )
    new = commands.revision(mindmirror.settings(), quiet(), "add pronouns")
    assert new.operations == ["add column profiles.pronouns"]
    assert reset(mindmirror.settings(), quiet(), YES).startswith("rebuilt")
    assert sql(mindmirror, "SELECT count(pronouns), count(*) FROM app.profiles") == [(0, 2)]


def test_snapshot_invalidated_by_seed_and_migration_edits(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), YES)
    assert commands.current_status(mindmirror.settings(), quiet()).snapshot == "valid"
    seed = mindmirror.root / "seeds" / "001_profiles.sql"
    seed.write_text(seed.read_text() + f"\n{new_profile('profiles', 'new')};\n")
    assert commands.current_status(mindmirror.settings(), quiet()).snapshot == "stale"
    assert reset(mindmirror.settings(), quiet(), YES).startswith("rebuilt")
    assert profiles(mindmirror) == 3
    migration = next(mindmirror.versions.glob("*.py"))
    migration.write_text(migration.read_text() + "\n# reviewed\n")
    assert commands.current_status(mindmirror.settings(), quiet()).snapshot == "stale"
    assert reset(mindmirror.settings(), quiet(), YES).startswith("rebuilt")
    assert commands.current_status(mindmirror.settings(), quiet()).snapshot == "valid"


def test_no_snapshot_forces_the_full_path(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), YES)
    forced = reset(mindmirror.settings(), quiet(), ResetOptions(yes=True, use_snapshot=False))
    assert forced.startswith("rebuilt")


def test_reset_without_seed(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), ResetOptions(yes=True, seed=False))
    assert profiles(mindmirror) == 0


def test_seed_failure_rolls_back_and_names_file_and_line(mindmirror: ScratchProject) -> None:
    reset(mindmirror.settings(), quiet(), ResetOptions(yes=True, seed=False))
    (mindmirror.root / "seeds" / "004_bad.sql").write_text(
        "-- a seed with a mistake\n"
        f"{new_profile('profiles', 'fine')};\n"
        "INSERT INTO profiles (display_name,\n  no_such_column) VALUES ('x', 1);\n"
    )
    settings = mindmirror.settings()
    with pg.engine(settings.endpoint).connect() as conn, pytest.raises(SeedFailed) as info:
        apply_seeds(settings, conn, guard.grant(settings, Intent.WRITE, "seed"))
    message = info.value.render()
    assert "seeds/004_bad.sql line 4" in message
    assert "no_such_column" in message
    assert "rolled back" in message
    assert profiles(mindmirror) == 0


def test_seed_callable_runs_in_the_same_transaction(mindmirror: ScratchProject) -> None:
    (mindmirror.root / "extra_seed.py").write_text(
        "from sqlalchemy import text\n\n\ndef seed(conn):\n"
        f'    conn.execute(text("{new_profile("profiles", "from python")}"))\n'
    )
    settings = mindmirror.settings(DB_SEED_CALLABLE="extra_seed:seed")
    reset(settings, quiet(), YES)
    assert profiles(mindmirror) == 3


def test_external_reset_only_touches_its_schema(mindmirror: ScratchProject) -> None:
    external = {"DB_BACKEND": "external"}
    ensure_ready(mindmirror.settings(), quiet())  # native creates the database
    commands.init(mindmirror.settings(**external), quiet())
    sql(
        mindmirror,
        "CREATE TABLE public.keep_me (id int); INSERT INTO public.keep_me VALUES (7);"
        + new_profile("app.profiles", "gone after reset"),
    )
    message = reset(mindmirror.settings(**external), quiet(), YES)
    assert message.startswith("rebuilt schema app")
    assert sql(mindmirror, "SELECT id FROM public.keep_me") == [(7,)]
    assert profiles(mindmirror) == 2


def test_external_reset_of_a_history_kept_in_another_schema(mindmirror: ScratchProject) -> None:
    external = {"DB_BACKEND": "external"}
    ensure_ready(mindmirror.settings(), quiet())
    kept_in_public = mindmirror.settings(**external, DB_VERSION_SCHEMA="public")
    commands.init(kept_in_public, quiet())
    message = reset(kept_in_public, quiet(), YES)
    assert message.startswith("rebuilt schema app") and "at head" in message
    assert profiles(mindmirror) == 2
    # Rebuilt where DB_VERSION_SCHEMA says, after the reset named it among what it destroys.
    assert sql(mindmirror, "SELECT count(*) FROM public.alembic_version") == [(1,)]


def test_external_reset_never_touches_another_projects_version_table(
    mindmirror: ScratchProject,
) -> None:
    """Project A keeps its history in public; project B (DB_SCHEMA=app) resets its own."""
    external = {"DB_BACKEND": "external"}
    ensure_ready(mindmirror.settings(), quiet())
    sql(
        mindmirror,
        "CREATE TABLE public.alembic_version (version_num varchar(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    )
    sql(mindmirror, "INSERT INTO public.alembic_version VALUES ('a1b2c3d4e5f6')")
    commands.init(mindmirror.settings(**external), quiet())
    reset(mindmirror.settings(**external), quiet(), YES)
    assert sql(mindmirror, "SELECT version_num FROM public.alembic_version") == [("a1b2c3d4e5f6",)]
