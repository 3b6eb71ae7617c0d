"""`db.status`, a no-op `db.upgrade` and `db.upgrade` from empty, against raw Alembic.

Upgrade from empty also runs two floors: psql replaying the SQL that
`alembic upgrade head --sql` writes, in one transaction (Alembic's default) and with a
commit after each revision (what dbtasks does, one transaction per revision). No Python
tool can apply the same statements faster than psql sending them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench import proc
from bench.checks import CheckFailed, require_at_head, require_empty
from bench.context import Bench, count_runs, require_count
from bench.harness import Case, Ratio, Side
from bench.project import Project

OFFLINE_MARK = "-- Running upgrade"


def alembic_args(project: Project, *args: str) -> list[str]:
    return [*proc.ALEMBIC, "-c", str(project.raw_ini), *args]


def _migrate_once(
    b: Bench, project: Project, database: str, args: list[str], env: dict[str, str]
) -> None:
    """Bring `database` to head with the side's own tool, unless it is there already."""
    if b.server.exists(database):
        try:
            require_at_head(b.server.state(database), project.history, database)
            return
        except CheckFailed:
            pass
    b.server.recreate(database)
    proc.run(args, project.root, env)
    require_at_head(b.server.state(database), project.history, database)


def _at_head_pair(b: Bench, project: Project) -> tuple[str, str, Callable[[], None]]:
    """Databases at head for each side (shared by status and no-op) and their setup."""
    n = project.history.count
    ours, raw = f"head_ours_{n}", f"head_raw_{n}"

    def setup() -> None:
        _migrate_once(b, project, ours, [*proc.INV, "db.upgrade"], b.ours(ours))
        _migrate_once(b, project, raw, alembic_args(project, "upgrade", "head"), b.raw(raw))

    return ours, raw, setup


def status(b: Bench, n: int) -> Case:
    project = b.project(n)
    ours_db, raw_db, setup = _at_head_pair(b, project)
    head = project.history.head

    def ours() -> None:
        result = proc.run([*proc.INV, "db.status"], project.root, b.ours(ours_db))
        proc.expect(result, f"at head {head}", "inv db.status")

    def raw() -> None:
        result = proc.run(alembic_args(project, "current"), project.root, b.raw(raw_db))
        proc.expect(result, f"{head} (head)", "alembic current")

    sides = (
        Side("dbtasks", "inv db.status", ours, verify=b.at_head(project, ours_db)),
        Side("alembic", "alembic current", raw, verify=b.at_head(project, raw_db)),
    )
    return Case("status", n, sides, (Ratio("dbtasks", "alembic", 0.5),), setup)


def noop(b: Bench, n: int) -> Case:
    project = b.project(n)
    ours_db, raw_db, setup = _at_head_pair(b, project)

    def ours() -> None:
        result = proc.run([*proc.INV, "db.upgrade"], project.root, b.ours(ours_db))
        proc.expect(result, "nothing to apply", "inv db.upgrade (no-op)")

    def raw() -> None:
        result = proc.run(alembic_args(project, "upgrade", "head"), project.root, b.raw(raw_db))
        require_count(count_runs(result.stderr, "upgrade"), 0, "alembic upgrade head (no-op)")

    sides = (
        Side("dbtasks", "inv db.upgrade", ours, verify=b.at_head(project, ours_db)),
        Side("alembic", "alembic upgrade head", raw, verify=b.at_head(project, raw_db)),
    )
    return Case("noop", n, sides, (Ratio("dbtasks", "alembic", 0.5),), setup)


def _from_empty(
    b: Bench, project: Project, name: str, label: str, run: Callable[[str], None]
) -> Side:
    """A side that upgrades its own freshly created database from nothing."""
    database = f"up_{name.replace('-', '_')}_{project.history.count}"
    return Side(
        name,
        label,
        lambda: run(database),
        prepare=lambda: b.server.recreate(database),
        precondition=lambda: require_empty(b.server.state(database), database),
        verify=b.at_head(project, database),
    )


def upgrade(b: Bench, n: int, per_revision_floor: bool = True) -> Case:
    project = b.project(n)

    def ours(database: str) -> None:
        result = proc.run([*proc.INV, "db.upgrade"], project.root, b.ours(database))
        proc.expect(result, f"[{n}/{n}] applied", "inv db.upgrade")

    def raw(database: str) -> None:
        result = proc.run(alembic_args(project, "upgrade", "head"), project.root, b.raw(database))
        require_count(count_runs(result.stderr, "upgrade"), n, "alembic upgrade head")

    sides = [
        _from_empty(b, project, "dbtasks", "inv db.upgrade", ours),
        _from_empty(b, project, "alembic", "alembic upgrade head", raw),
    ]
    ratios = [Ratio("dbtasks", "alembic", 1.0)]
    if b.server.psql is not None:
        one_tx, per_rev = floor_files(project)
        sides.append(
            _from_empty(
                b, project, "floor-1tx", "psql -f (one transaction)", _psql(b, project, one_tx)
            )
        )
        ratios += [
            Ratio("dbtasks", "floor-1tx", 1.25, compare_cpu=False),
            Ratio("alembic", "floor-1tx", None, compare_cpu=False),
        ]
        if per_revision_floor:
            sides.append(
                _from_empty(
                    b,
                    project,
                    "floor-per-rev",
                    "psql -f (commit per revision)",
                    _psql(b, project, per_rev),
                )
            )
            ratios.append(Ratio("dbtasks", "floor-per-rev", None, compare_cpu=False))

    def setup() -> None:
        if b.server.psql is not None:
            write_floor_sql(b, project)

    return Case("upgrade", n, tuple(sides), tuple(ratios), setup)


def _psql(b: Bench, project: Project, script: Path) -> Callable[[str], None]:
    def run(database: str) -> None:
        proc.run([*b.server.psql_args(database), "-f", str(script)], project.root, b.raw(database))

    return run


def floor_files(project: Project) -> tuple[Path, Path]:
    return project.root / "floor_one_tx.sql", project.root / "floor_per_revision.sql"


def write_floor_sql(b: Bench, project: Project) -> None:
    """Alembic's offline SQL for the whole history, as is and with a commit per revision."""
    one_tx, per_rev = floor_files(project)
    if one_tx.is_file() and per_rev.is_file():
        return
    n = project.history.count
    result = proc.run(
        alembic_args(project, "upgrade", "head", "--sql"), project.root, b.raw("offline")
    )
    require_count(result.stdout.count(OFFLINE_MARK), n, "alembic upgrade head --sql")
    split = commit_per_revision(result.stdout)
    require_count(split.count("\nCOMMIT;"), n, "the per-revision floor's COMMITs")
    one_tx.write_text(result.stdout, encoding="utf-8")
    per_rev.write_text(split, encoding="utf-8")


def commit_per_revision(sql: str) -> str:
    """The same script with `COMMIT; BEGIN;` between revisions."""
    out: list[str] = []
    seen = 0
    for line in sql.splitlines(keepends=True):
        if line.startswith(OFFLINE_MARK):
            if seen:
                out.append("COMMIT;\n\nBEGIN;\n\n")
            seen += 1
        out.append(line)
    return "".join(out)
