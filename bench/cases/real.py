"""Real histories nobody here wrote, from pinned wheels on PyPI: from empty, and one pending.

The projects are the ones the real-history test tier builds (`tests/real`): the wheel's
versions folder as it is, this repository's env.py for dbtasks with `DB_SCHEMA=public`,
and for raw Alembic a plain env.py that passes what the package's own env.py configures.
Raw Alembic gets its URL in `-x url=` without the password (libpq reads PGPASSWORD).

A raw reference build, made once and untimed, says what every run must end with: the
heads in the version table and the number of tables and indexes in `public`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import proc
from bench.checks import CheckFailed
from bench.context import Bench
from bench.harness import Case, Ratio, Side
from bench.server import HOST, USER

# dbtasks' timing history sits in DB_SCHEMA (here public): it is not the history's.
_SHAPE = """
SELECT (SELECT count(*) FROM pg_tables
         WHERE schemaname = 'public' AND tablename <> 'dbtasks_revision_log'),
       (SELECT count(*) FROM pg_indexes
         WHERE schemaname = 'public' AND tablename <> 'dbtasks_revision_log')
"""


@dataclass(frozen=True)
class Shape:
    """What a database holds, by plain SQL: the version rows, tables and indexes."""

    version: tuple[str, ...]
    tables: int
    indexes: int


def shape(b: Bench, database: str) -> Shape:
    import psycopg2

    conn = psycopg2.connect(**b.server.endpoint.connect_kwargs(database))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(_SHAPE)
            tables, indexes = cur.fetchone() or (0, 0)
            cur.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL")
            version: tuple[str, ...] = ()
            if (cur.fetchone() or (False,))[0]:
                cur.execute("SELECT version_num FROM public.alembic_version ORDER BY 1")
                version = tuple(str(r[0]) for r in cur.fetchall())
    finally:
        conn.close()
    return Shape(version, int(tables), int(indexes))


@dataclass
class Real:
    """One real history in the bench: its project, and the shapes runs must start and end at."""

    key: str
    root: Path
    heads: tuple[str, ...]
    parent: str | None  # the revision one below the only head (None: several heads)
    done: Shape | None = None
    before: Shape | None = None

    def raw(self, b: Bench, database: str, *args: str) -> list[str]:
        url = f"postgresql+psycopg2://{USER}@{HOST}:{b.server.port}/{database}"
        return [*proc.ALEMBIC, "-c", "raw-alembic.ini", "-x", f"url={url}", *args]

    def ours_env(self, b: Bench, database: str) -> dict[str, str]:
        return {**b.ours(database), "DB_SCHEMA": "public"}


def _graph(root: Path) -> tuple[tuple[str, ...], str | None]:
    """The heads of the history, and the parent of the head when there is just one."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(root / "raw-alembic.ini")))
    heads = tuple(sorted(script.get_heads()))
    if len(heads) != 1:
        return heads, None
    down = script.get_revision(heads[0]).down_revision
    return heads, down if isinstance(down, str) else None


def _project(b: Bench, history: object) -> Real:
    from tests.real.harness import build_project
    from tests.real.histories import History

    assert isinstance(history, History)
    root = b.root / "real" / history.id / "project"
    if not root.exists():
        build_project(root, history)
    heads, parent = _graph(root)
    return Real(history.key, root, heads, parent)


def _require(b: Bench, database: str, want: Shape | None, when: str) -> Callable[[], None]:
    def check() -> None:
        have = shape(b, database)
        if want is None or have != want:
            raise CheckFailed(f"{database} {when}: {have}, expected {want}")

    return check


def _reference(b: Bench, real: Real) -> None:
    """Raw Alembic builds the history once, to head and to one below: the shapes to reach.
    dbtasks builds its own template at head minus one, as a team's database would be."""
    if real.done is not None:
        return
    name = f"real_ref_{real.key}"
    b.server.recreate(name)
    if real.parent is not None:
        proc.run(real.raw(b, name, "upgrade", real.parent), real.root, b.raw(name))
        real.before = shape(b, name)
        b.server.recreate(f"{name}_minus_1", template=name)
        ours = f"real_ours_{real.key}_minus_1"
        b.server.recreate(ours)
        command = [*proc.INV, "db.upgrade", "-r", real.parent]
        proc.run(command, real.root, real.ours_env(b, ours))
        _require(b, ours, real.before, f"after db.upgrade -r {real.parent}")()
    proc.run(real.raw(b, name, "upgrade", "heads"), real.root, b.raw(name))
    real.done = shape(b, name)
    if real.done.version != real.heads:
        raise CheckFailed(f"{real.key}: raw upgrade ended at {real.done.version}")


def _upgrade(b: Bench, real: Real, ours: bool) -> Callable[[str], None]:
    """One side's upgrade to every head: `inv db.upgrade` or raw `alembic upgrade heads`."""

    def run(database: str) -> None:
        if ours:
            proc.run([*proc.INV, "db.upgrade"], real.root, real.ours_env(b, database))
        else:
            proc.run(real.raw(b, database, "upgrade", "heads"), real.root, b.raw(database))

    return run


def _side(b: Bench, real: Real, name: str, ours: bool, template: str | None) -> Side:
    """A side from empty (no template) or from its own tool's build at head minus one."""
    database = f"real_{name.replace('-', '_')}"
    run = _upgrade(b, real, ours)
    tool = "inv db.upgrade" if ours else "alembic upgrade heads"
    empty = Shape((), 0, 0)
    return Side(
        name,
        f"{tool} ({'from empty' if template is None else 'one pending'})",
        lambda: run(database),
        prepare=lambda: b.server.recreate(database, template=template),
        # real.before is known once the setup has built the reference: read it then.
        precondition=lambda: _require(b, database, real.before if template else empty, "before")(),
        verify=lambda: _require(b, database, real.done, "after")(),
    )


def _sides(b: Bench, real: Real) -> tuple[list[Side], list[Ratio]]:
    ours, raw = f"{real.key}-dbtasks", f"{real.key}-alembic"
    sides = [_side(b, real, ours, True, None), _side(b, real, raw, False, None)]
    ratios = [Ratio(ours, raw, 1.0)]
    if real.parent is not None:
        sides += [
            _side(b, real, f"{ours}-1", True, f"real_ours_{real.key}_minus_1"),
            _side(b, real, f"{raw}-1", False, f"real_ref_{real.key}_minus_1"),
        ]
        ratios.append(Ratio(f"{ours}-1", f"{raw}-1", 0.6))
    return sides, ratios


def real(b: Bench, n: int) -> Case:
    from tests.real.histories import HISTORIES

    reals = [_project(b, history) for history in HISTORIES]
    sides: list[Side] = []
    ratios: list[Ratio] = []
    for each in reals:
        more, targets = _sides(b, each)
        sides += more
        ratios += targets

    def setup() -> None:
        for each in reals:
            _reference(b, each)

    return Case("real", None, tuple(sides), tuple(ratios), setup)
