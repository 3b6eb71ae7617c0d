"""Names are measured in bytes, as Postgres measures them, and derived names never collide:
a name Postgres would silently truncate could make a snapshot replace the wrong database."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from dbtasks.console import Console
from dbtasks.flows.reset import ResetOptions, reset
from dbtasks.settings import Settings
from dbtasks.snapshot import snapshot_name
from tests.projects import ScratchProject, make_project, write_chain
from tests.security import moved, verdict

LIMIT = 63
KEY = hashlib.sha256(b"the files a reset builds").hexdigest()
NAMES = ["mindmirror", "a" * 63, "é" * 31, "€" * 21, "日本語" * 7, "données_" * 4 + "db"]


def scratch_name(name: str) -> str:
    found: Callable[[str], str] = moved(("dbtasks.snapshot",), "scratch_name")
    return found(name)


@pytest.mark.parametrize(
    "database", ["a" * 64, "é" * 32, "%C3%A9" * 32, "€" * 22], ids=["ascii", "raw", "pct", "euro"]
)
def test_url_database_name_over_63_bytes_is_bad_input(tmp_path: Path, database: str) -> None:
    url = f"postgresql://u:p@127.0.0.1:5432/{database}"
    assert verdict(tmp_path, {"DATABASE_URL": url}).code == 2


@pytest.mark.parametrize("database", ["a" * 63, "é" * 31 + "a"])
def test_url_database_name_of_63_bytes_is_fine(tmp_path: Path, database: str) -> None:
    url = f"postgresql://u:p@127.0.0.1:5432/{database}"
    assert verdict(tmp_path, {"DATABASE_URL": url}).code == 0


@pytest.mark.parametrize("database", NAMES)
def test_snapshot_name_fits_and_differs_from_the_database(database: str) -> None:
    snapshot = snapshot_name(database, KEY)
    assert len(snapshot.encode()) <= LIMIT, snapshot
    assert snapshot != database


@pytest.mark.parametrize("database", NAMES)
def test_build_name_fits_and_differs_from_database_and_snapshot(database: str) -> None:
    snapshot = snapshot_name(database, KEY)
    build = scratch_name(snapshot)
    assert len(build.encode()) <= LIMIT, build
    assert build not in (database, snapshot)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a" * 40 + "_alpha", "a" * 40 + "_beta"),
        ("a" * 62 + "x", "a" * 62 + "y"),
        ("é" * 30 + "a", "é" * 30 + "b"),
    ],
    ids=["ascii", "last-byte", "multibyte"],
)
def test_long_names_sharing_a_prefix_get_distinct_names(first: str, second: str) -> None:
    assert snapshot_name(first, KEY) != snapshot_name(second, KEY)


def test_build_names_of_long_names_sharing_a_prefix_differ() -> None:
    first, second = ("é" * 30 + "a", "é" * 30 + "b")
    assert scratch_name(snapshot_name(first, KEY)) != scratch_name(snapshot_name(second, KEY))


def test_a_database_named_like_a_snapshot_is_not_its_own_snapshot() -> None:
    database = snapshot_name("mindmirror", KEY)
    assert snapshot_name(database, KEY) != database


# -- on the session cluster ---------------------------------------------------------------


def project_named(root: Path, cluster: Settings, name: str, revisions: int) -> ScratchProject:
    project = make_project(root, cluster)
    project.env["DB_NAME"] = name
    write_chain(project.versions, revisions)
    return project


def reset_once(project: ScratchProject) -> str:
    return reset(project.settings(), Console(out=io.StringIO()), ResetOptions(yes=True))


def others_named(cluster: Settings, prefix: str, database: str) -> list[tuple[str, bool]]:
    """Every database but `database` whose name starts with `prefix`, and whether it is a
    template (a snapshot)."""
    conn = psycopg2.connect(**cluster.endpoint.connect_kwargs("postgres"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT datname, datistemplate FROM pg_database "
                "WHERE starts_with(datname, %s) AND datname <> %s",
                (prefix, database),
            )
            return [(str(name), bool(template)) for name, template in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.integration
@pytest.mark.parametrize("tail", ["x" * 40, "données_" * 4 + "db"], ids=["ascii", "multibyte"])
def test_long_database_name_resets_and_keeps_one_snapshot(
    tmp_path: Path, cluster: Settings, tail: str
) -> None:
    prefix = uuid.uuid4().hex[:8]
    name = f"{prefix}_{tail}"
    assert len(name) >= 34 and len(name.encode()) <= LIMIT
    project = project_named(tmp_path, cluster, name, 1)
    for revisions in (1, 2, 3):
        write_chain(project.versions, revisions)  # new files: a new snapshot each time
        assert reset_once(project).endswith(f"at head r{revisions:03d}")
    assert reset_once(project).startswith("reset from snapshot")
    left = others_named(cluster, prefix, name)
    assert len(left) == 1 and left[0][1], left


@pytest.mark.integration
def test_databases_sharing_a_long_prefix_keep_their_own_snapshots(
    tmp_path: Path, cluster: Settings
) -> None:
    shared = f"{uuid.uuid4().hex[:8]}_{'s' * 40}"
    first = project_named(tmp_path / "first", cluster, f"{shared}_first", 2)
    second = project_named(tmp_path / "second", cluster, f"{shared}_second", 3)
    assert reset_once(first).endswith("at head r002")
    assert reset_once(second).endswith("at head r003")
    # Building the second snapshot must not have replaced or dropped the first one.
    again = reset_once(first)
    assert again.startswith("reset from snapshot") and again.endswith("at head r002"), again
