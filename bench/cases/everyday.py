"""The everyday upgrade: one or three pending revisions on an N-revision history.

This is the upgrade a developer runs after a pull, many times a day. Each side gets a
template database that its own tool migrated to head minus K (built once, untimed); every
run starts from a fresh clone of it, so each timed run applies exactly K revisions.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import proc
from bench.cases.migrate import alembic_args
from bench.cases.startup import FLOOR_START, start_floor
from bench.checks import CheckFailed
from bench.context import Bench, count_runs, require_count
from bench.harness import Case, Ratio, Side
from bench.project import Project

PENDING = (1, 3)
TARGET = 0.6


def _at(b: Bench, database: str, revision: str) -> Callable[[], None]:
    """A check: `database` is at exactly `revision` (plain SQL, not our code)."""

    def check() -> None:
        version = b.server.state(database).version
        if version != (revision,):
            raise CheckFailed(f"{database} is at {version or 'no version'}, expected {revision}")

    return check


def _template(
    b: Bench, project: Project, name: str, args: list[str], env: dict[str, str], rev: str
) -> None:
    """A template database migrated by one side's own tool to `rev`, kept between runs."""
    if b.server.exists(name):
        try:
            _at(b, name, rev)()
            return
        except CheckFailed:
            pass
    b.server.recreate(name)
    proc.run(args, project.root, env)
    _at(b, name, rev)()


def _sides(b: Bench, project: Project, k: int) -> tuple[tuple[Side, Side], Callable[[], None]]:
    n = project.history.count
    start = project.history.ids[n - 1 - k]
    templates = {side: f"tpl_{side}_{n}_minus_{k}" for side in ("ours", "raw")}

    def setup() -> None:
        ours_args = [*proc.INV, "db.upgrade", "-r", start]
        raw_args = alembic_args(project, "upgrade", start)
        ours, raw = templates["ours"], templates["raw"]
        _template(b, project, ours, ours_args, b.ours(ours), start)
        _template(b, project, raw, raw_args, b.raw(raw), start)

    def side(name: str, label: str, key: str, run: Callable[[str], None]) -> Side:
        database = f"day_{key}_{n}_{k}"
        return Side(
            name,
            label,
            lambda: run(database),
            prepare=lambda: b.server.recreate(database, template=templates[key]),
            precondition=_at(b, database, start),
            verify=b.at_head(project, database),
        )

    def ours(database: str) -> None:
        result = proc.run([*proc.INV, "db.upgrade"], project.root, b.ours(database))
        proc.expect(result, f"[{k}/{k}] applied", "inv db.upgrade")

    def raw(database: str) -> None:
        result = proc.run(alembic_args(project, "upgrade", "head"), project.root, b.raw(database))
        require_count(count_runs(result.stderr, "upgrade"), k, "alembic upgrade head")

    return (
        side(f"dbtasks-{k}", f"inv db.upgrade ({k} pending)", "ours", ours),
        side(f"alembic-{k}", f"alembic upgrade head ({k} pending)", "raw", raw),
    ), setup


def everyday(b: Bench, n: int) -> Case:
    project = b.project(n)
    sides: list[Side] = []
    setups: list[Callable[[], None]] = []
    for k in PENDING:
        pair, setup = _sides(b, project, k)
        sides += pair
        setups.append(setup)

    def setup_all() -> None:
        for each in setups:
            each()

    ratios = [Ratio(f"dbtasks-{k}", f"alembic-{k}", TARGET) for k in PENDING]
    # What the target leaves for the work itself: above it, no `inv` task can meet it.
    sides.append(start_floor(b))
    ratios += [Ratio(FLOOR_START, f"alembic-{k}", None) for k in PENDING]
    return Case("everyday", n, tuple(sides), tuple(ratios), setup_all)
