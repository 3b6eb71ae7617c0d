"""The squash's effects ask for their grant (architecture.md, "an effect"): the baseline's
load into a scratch database, and the moves, writes and deletions in the version folders.
Each is refused with a grant that does not cover it, and nothing happens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dbtasks import guard, pg
from dbtasks.adapter.workspace import Workspace
from dbtasks.errors import Refused
from dbtasks.guard import Intent
from dbtasks.migrations.graph import Revision
from dbtasks.settings import Settings
from dbtasks.squash import build, files
from dbtasks.squash.cut import cut
from tests.projects import make_project, write_chain
from tests.support import scratch_grant

pytestmark = pytest.mark.integration


def test_the_baseline_loads_only_where_granted(tmp_path: Path, cluster: Settings) -> None:
    project = make_project(tmp_path, cluster)
    settings = project.settings()
    name = settings.endpoint.database
    with pg.maintenance(cluster.endpoint) as admin:
        pg.create_database(admin, name, scratch_grant(cluster, name))
    try:
        elsewhere = replace(settings, endpoint=replace(settings.endpoint, database="other"))
        wrong = guard.grant(elsewhere, Intent.MIGRATE, "test")
        with pg.engine(settings.endpoint).connect() as connection:
            with pytest.raises(Refused):
                build.load(connection, "CREATE TABLE public.loaded (i int)", wrong)
            with pytest.raises(Refused):
                build.load(connection, "CREATE TABLE public.loaded (i int)",
                           guard.grant(settings, Intent.READ, "t"))  # fmt: skip
            build.load(connection, "CREATE TABLE public.loaded (i int)",
                       guard.grant(settings, Intent.MIGRATE, "t"))  # fmt: skip
        with pg.session(settings.endpoint) as cur:
            cur.execute("SELECT to_regclass('public.loaded') IS NOT NULL")
            assert cur.fetchone()[0]
    finally:
        with pg.maintenance(cluster.endpoint) as admin:
            pg.drop_database(admin, name, scratch_grant(cluster, name))


def test_files_move_and_are_written_and_pruned_only_where_granted(
    tmp_path: Path, cluster: Settings
) -> None:
    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 3)
    ws = Workspace.open(project.settings())
    found = cut(ws.graph, "r002")
    elsewhere = guard.files((tmp_path / "elsewhere",), "test")
    before = sorted(project.versions.rglob("*"))
    with pytest.raises(Refused):
        files.move_replaced(found, elsewhere)
    assert sorted(project.versions.rglob("*")) == before
    granted = guard.files((project.versions,), "test")
    moved = files.move_replaced(found, granted)
    assert [m.destination.parent.name for m in moved] == ["replaced_by_r002"] * 2
    with pytest.raises(Refused):
        files.put_back(moved, elsewhere)
    with pytest.raises(Refused):
        files.write_baseline(ws, project.versions / "b.py", "revision = 'x'\n", moved, elsewhere)
    assert not (project.versions / "b.py").exists()
    files.put_back(moved, granted)
    assert sorted(project.versions.rglob("*")) == before
    files.move_replaced(found, granted)
    folder = project.versions / "replaced_by_r002"
    with pytest.raises(Refused):
        files.prune([folder], elsewhere)
    assert folder.is_dir()
    assert files.prune([folder], granted) == 2 and not folder.exists()


def test_a_cut_names_the_revision_that_builds_below_it() -> None:
    from dbtasks.errors import ConfigError
    from dbtasks.migrations.graph import Graph

    def rev(id: str, *down: str) -> Revision:
        return Revision(id, id, f"{id}.py", down, "")

    graph = Graph((rev("d", "b"), rev("c", "b"), rev("b", "a"), rev("a")), ("c", "d"))
    with pytest.raises(ConfigError, match="revision d"):
        cut(graph, "c")
    assert cut(graph, "b").ids == ("a", "b")
