"""`inv db.reset --yes` against raw Alembic's reset and against a bare template clone.

Before every timed run each side's database holds a row a reset must throw away; after
it, the row is gone and the database is at head with every object. dbtasks' side must
clone its snapshot (the common case: no file changed), so the snapshot must exist before
the run and be the same database after it: a rebuild during a timed run is a failure.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import proc
from bench.cases.migrate import alembic_args
from bench.checks import CheckFailed, mark_dirty, require_at_head, require_clean, require_dirty
from bench.context import Bench, count_runs, require_count
from bench.harness import Case, Ratio, Side
from bench.project import Project

OURS, RAW, FLOOR, FLOOR_TEMPLATE = "reset_ours", "reset_raw", "reset_floor", "reset_floor_tpl"


def _dirty(b: Bench, project: Project, database: str) -> Callable[[], None]:
    return lambda: mark_dirty(b.server.endpoint, database, project.history.first_table)


def _dirty_at_head(b: Bench, project: Project, database: str) -> Callable[[], None]:
    def check() -> None:
        state = b.server.state(database)
        require_at_head(state, project.history, database)
        require_dirty(state, database)

    return check


def _clean_at_head(b: Bench, project: Project, database: str) -> Callable[[], None]:
    def check() -> None:
        state = b.server.state(database)
        require_at_head(state, project.history, database)
        require_clean(state, database)

    return check


def snapshot_oid(b: Bench, database: str = OURS) -> int:
    """The one template database dbtasks keeps for `database` (named by its comment)."""
    rows = b.server.query(
        "SELECT oid FROM pg_database WHERE datistemplate "
        "AND starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), %s)",
        f"dbtasks snapshot of={database} ",
    )
    if len(rows) != 1:
        raise CheckFailed(f"expected one snapshot of {database}, found {len(rows)}")
    return int(rows[0][0])


def _ours(b: Bench, project: Project) -> Side:
    env = b.ours(OURS)
    seen: list[int] = []

    def precondition() -> None:
        _dirty_at_head(b, project, OURS)()
        seen[:] = [snapshot_oid(b)]

    def run() -> None:
        result = proc.run([*proc.INV, "db.reset", "--yes"], project.root, env)
        proc.expect(result, "reset from snapshot", "inv db.reset --yes")

    def verify() -> None:
        _clean_at_head(b, project, OURS)()
        if snapshot_oid(b) != seen[0]:
            raise CheckFailed("the snapshot was rebuilt during the timed reset")

    return Side(
        "dbtasks",
        "inv db.reset --yes",
        run,
        prepare=_dirty(b, project, OURS),
        precondition=precondition,
        verify=verify,
    )


def _raw(b: Bench, project: Project) -> Side:
    env, n = b.raw(RAW), project.history.count

    def run() -> None:
        down = proc.run(alembic_args(project, "downgrade", "base"), project.root, env)
        up = proc.run(alembic_args(project, "upgrade", "head"), project.root, env)
        require_count(count_runs(down.stderr, "downgrade"), n, "alembic downgrade base")
        require_count(count_runs(up.stderr, "upgrade"), n, "alembic upgrade head")

    label = "alembic downgrade base && alembic upgrade head"
    return _from_dirty(b, project, RAW, "alembic", label, run)


def _floor(b: Bench, project: Project) -> Side:
    env = b.raw(FLOOR)
    drop = f"DROP DATABASE IF EXISTS {FLOOR} WITH (FORCE)"
    create = f"CREATE DATABASE {FLOOR} TEMPLATE {FLOOR_TEMPLATE}"

    def run() -> None:
        proc.run([*b.server.psql_args("postgres"), "-c", drop, "-c", create], project.root, env)

    label = "psql: DROP DATABASE + CREATE DATABASE ... TEMPLATE"
    return _from_dirty(b, project, FLOOR, "floor", label, run)


def _from_dirty(
    b: Bench, project: Project, database: str, name: str, label: str, run: Callable[[], None]
) -> Side:
    """A side that starts from a dirtied database at head and must leave it clean at head."""
    return Side(
        name,
        label,
        run,
        prepare=_dirty(b, project, database),
        precondition=_dirty_at_head(b, project, database),
        verify=_clean_at_head(b, project, database),
    )


def reset(b: Bench, n: int) -> Case:
    project = b.project(n)

    def setup() -> None:
        # The first reset builds the snapshot; the timed ones must only clone it.
        b.server.recreate(OURS)
        proc.run([*proc.INV, "db.reset", "--yes"], project.root, b.ours(OURS))
        b.server.recreate(RAW)
        proc.run(alembic_args(project, "upgrade", "head"), project.root, b.raw(RAW))
        require_at_head(b.server.state(RAW), project.history, RAW)
        # The floor clones the same schema, frozen before any dirty row is written.
        b.server.recreate(FLOOR_TEMPLATE, template=RAW)
        b.server.recreate(FLOOR, template=FLOOR_TEMPLATE)

    sides = [_ours(b, project), _raw(b, project)]
    ratios = [Ratio("dbtasks", "alembic", 0.25)]
    if b.server.psql is not None:
        sides.append(_floor(b, project))
        ratios.append(Ratio("dbtasks", "floor", 1.3, compare_cpu=False))
    return Case("reset", n, tuple(sides), tuple(ratios), setup)
