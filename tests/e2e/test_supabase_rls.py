"""MindMirror's row-level security on the embedded stack, started from nothing, no Docker."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2
import pytest

from tests.projects import ScratchProject, make_project
from tests.support import make_settings, scratch_dir

pytestmark = pytest.mark.e2e

ADA = "00000000-0000-4000-8000-000000000001"
GRACE = "00000000-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def fresh() -> Iterator[ScratchProject]:
    """MindMirror on a cluster of its own that `inv db.reset --yes` creates and seeds."""
    with scratch_dir("rls") as root:
        project = make_project(root / "project", make_settings(root), with_mindmirror=True)
        result = project.inv("db.reset", "--yes")
        assert result.returncode == 0, result.stderr
        assert "created a PostgreSQL" in result.stdout
        try:
            yield project
        finally:
            project.inv("stack.down", "--destroy", "--yes")


def as_user(
    project: ScratchProject, user: str, statement: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """Run `statement` as Supabase's `authenticated` role with `user`'s JWT claims."""
    conn = psycopg2.connect(**project.settings().endpoint.connect_kwargs())
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE authenticated")
            cur.execute(
                "SELECT set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": user, "role": "authenticated"}),),
            )
            cur.execute("SET LOCAL search_path TO app")
            cur.execute(statement, params)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def test_a_user_sees_only_their_entries(fresh: ScratchProject) -> None:
    ada = as_user(fresh, ADA, "SELECT title FROM journal_entries ORDER BY title")
    grace = as_user(fresh, GRACE, "SELECT title FROM journal_entries ORDER BY title")
    assert ada == [("A good start",), ("Deadline week",)]
    assert grace == [("Slept badly",)]


def test_auth_helpers_read_the_claims(fresh: ScratchProject) -> None:
    assert as_user(fresh, ADA, "SELECT auth.uid()::text, auth.role()") == [(ADA, "authenticated")]


def test_writing_for_another_user_fails(fresh: ScratchProject) -> None:
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
        as_user(
            fresh, ADA, "INSERT INTO journal_entries (profile_id, body) VALUES (%s, 'x')", (GRACE,)
        )
    inserted = as_user(
        fresh,
        ADA,
        "INSERT INTO journal_entries (profile_id, body) VALUES (%s, 'mine') RETURNING body",
        (ADA,),
    )
    assert inserted == [("mine",)]


def test_child_tables_follow_their_parent(fresh: ScratchProject) -> None:
    assert as_user(fresh, GRACE, "SELECT count(*) FROM agent_messages") == [(0,)]
    assert as_user(fresh, ADA, "SELECT count(*) FROM agent_messages") == [(3,)]
    assert as_user(fresh, GRACE, "SELECT count(*) FROM entry_tags") == [(1,)]


def test_anonymous_callers_get_nothing(fresh: ScratchProject) -> None:
    conn = psycopg2.connect(**fresh.settings().endpoint.connect_kwargs())
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE anon")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT * FROM app.journal_entries")
    finally:
        conn.close()


def test_baseline_is_in_every_new_database(fresh: ScratchProject) -> None:
    other = fresh.settings(DB_NAME="another_db")
    result = fresh.inv("stack.up", DB_NAME="another_db")
    assert result.returncode == 0, result.stderr
    conn = psycopg2.connect(**other.endpoint.connect_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT to_regclass('auth.users') IS NOT NULL, "
                "to_regprocedure('auth.uid()') IS NOT NULL"
            )
            assert cur.fetchone() == (True, True)
    finally:
        conn.close()
