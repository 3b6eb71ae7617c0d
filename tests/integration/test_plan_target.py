"""db.plan against a target: sizes grade the same operation differently, downgrades are
proven with generated rows, revisions that read rows are traced, nothing but catalog
reads reaches the target, and the clone is a write the guard grants (or a throwaway
cluster where it would not)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dbtasks import pg, snapshot
from dbtasks.catalog import describe
from dbtasks.console import Console
from dbtasks.flows.migrate import Upgrade
from dbtasks.plan.model import Plan, RevisionPlan, Risk
from dbtasks.plan.rows import ROWS
from dbtasks.plan.run import Options, plan
from dbtasks.settings import Settings
from dbtasks.workflow import execute, read
from tests.integration.test_plan_trace import TABLE, TEMPLATE, TIMEOUT
from tests.projects import ScratchProject, make_project
from tests.support import sql as plain_sql

pytestmark = pytest.mark.integration


def write(project: ScratchProject, rev: str, down: str | None, up: str, back: str) -> None:
    text = TEMPLATE.format(rev=rev, down=down, up=up, down_body=back)
    (project.versions / f"{len(list(project.versions.glob('*.py'))):03d}_{rev}.py").write_text(text)


def planned(settings: Settings, **options: Any) -> Plan:
    console = Console(out=io.StringIO(), err=io.StringIO())
    return read(lambda work: plan(work, Options(**options)), settings, console)


def upgrade(settings: Settings, target: str = "heads") -> None:
    execute(Upgrade(target), settings, Console(out=io.StringIO()))


def sql(settings: Settings, statement: str, database: str | None = None) -> list[Any]:
    return plain_sql(settings.endpoint, statement, database)


def entry(found: Plan, rev: str) -> RevisionPlan:
    return next(r for r in found.revisions if r.id == rev)


@pytest.fixture
def history(tmp_path: Path, cluster: Settings) -> ScratchProject:
    """b000 makes `keep`; then revisions whose downgrades lose a column, a table, nothing;
    one that raises, one without downgrade(), one that reads rows to decide."""
    project = make_project(tmp_path, cluster)
    write(project, "b000", None, f'    op.execute("CREATE TABLE keep ({TABLE})")', "    pass")
    add = 'op.add_column("keep", sa.Column("extra", sa.Text))'
    write(project, "r001", "b000", TIMEOUT + "    " + add, '    op.drop_column("keep", "extra")')
    make = f'op.execute("CREATE TABLE fresh ({TABLE})")'
    write(project, "r002", "r001", "    " + make, '    op.drop_table("fresh")')
    index = 'op.create_index("ix_keep_n", "keep", ["n"])'
    write(
        project, "r003", "r002", TIMEOUT + "    " + index, '    op.drop_index("ix_keep_n", "keep")'
    )
    write(project, "r004", "r003", "    pass", '    raise NotImplementedError("one way")')
    reads = (
        '    count = op.get_bind().execute(sa.text("SELECT count(*) FROM keep")).scalar()\n'
        "    op.execute(f\"COMMENT ON TABLE keep IS '{count} rows'\")"
    )
    write(project, "r005", "r004", reads, "    pass")
    return project


def test_downgrades_are_proven_with_generated_rows(history: ScratchProject) -> None:
    settings = history.settings()
    upgrade(settings, "b000")
    found = planned(settings, calibrate=False)
    lost_column = entry(found, "r001").downgrade
    assert lost_column is not None and lost_column.ran and lost_column.shape == "present"
    assert [(x.table, x.rows, x.columns, x.values) for x in lost_column.losses] == [
        ("app.keep", 0, ("extra",), ROWS)
    ]
    lost_table = entry(found, "r002").downgrade
    assert lost_table is not None
    assert [(x.table, x.rows) for x in lost_table.losses] == [("app.fresh", ROWS)]
    safe = entry(found, "r003").downgrade
    assert safe is not None and safe.ran and safe.losses == [] and not safe.loses_data
    raising = entry(found, "r004").downgrade
    assert raising is not None and raising.shape == "raising"
    assert raising.error is not None and "NotImplementedError" in raising.error
    assert entry(found, "r005").downgrade.shape == "empty"  # type: ignore[union-attr]


def test_a_revision_that_reads_rows_is_traced(history: ScratchProject) -> None:
    settings = history.settings()
    upgrade(settings, "r004")
    (reads,) = planned(settings, calibrate=False).revisions
    assert reads.id == "r005" and reads.error is None
    select = [s for s in reads.statements if s.reads]
    assert [s.sql for s in select] == ["SELECT count(*) FROM keep"]
    assert ("app.keep", "AccessShareLock") in {(lk.relation, lk.mode) for lk in select[0].locks}
    assert any("COMMENT ON TABLE keep IS '0 rows'" in s.sql for s in reads.statements)


def test_a_rollback_plan_says_what_each_downgrade_loses(history: ScratchProject) -> None:
    settings = history.settings()
    upgrade(settings, "r003")
    found = planned(settings, target="b000", downgrade=True)
    assert found.direction == "downgrade"
    assert [r.id for r in found.revisions] == ["r003", "r002", "r001"]
    index, table, column = found.revisions
    assert index.risk is not Risk.HIGH and index.downgrade and not index.downgrade.loses_data
    assert table.risk is Risk.HIGH and table.downgrade
    assert [(x.table, x.rows) for x in table.downgrade.losses] == [("app.fresh", ROWS)]
    assert column.risk is Risk.HIGH and column.downgrade
    assert column.downgrade.losses[0].columns == ("extra",)
    drop = [s for s in index.statements if "DROP INDEX" in s.sql]
    assert drop and drop[0].strongest and drop[0].strongest.mode == "AccessExclusiveLock"


def test_the_same_rewrite_grades_by_the_targets_size(tmp_path: Path, cluster: Settings) -> None:
    """10 rows and 1M rows, the same type change under a lock_timeout: low and high."""
    project = make_project(tmp_path, cluster)
    wide = "id bigint PRIMARY KEY, n integer, s text"
    make = "\n".join(f'    op.execute("CREATE TABLE {t} ({wide})")' for t in ("small", "big"))
    write(project, "b000", None, make, "    pass")
    for rev, down, table in (("r001", "b000", "small"), ("r002", "r001", "big")):
        change = f'op.alter_column("{table}", "n", type_=sa.BigInteger)'
        back = f'    op.alter_column("{table}", "n", type_=sa.Integer)'
        write(project, rev, down, TIMEOUT + "    " + change, back)
    settings = project.settings()
    upgrade(settings, "b000")
    fill = "INSERT INTO app.{} SELECT g, g, repeat('x', 20) FROM generate_series(1, {}) g"
    sql(settings, fill.format("small", 10) + "; " + fill.format("big", 1_000_000))
    sql(settings, "ANALYZE app.small; ANALYZE app.big")
    found = planned(settings)
    small, big = found.revisions
    assert (found.sizes["app.small"].rows, found.sizes["app.big"].rows) == (10, 1_000_000)
    assert small.risk is Risk.LOW, [(s.sql, s.predicted) for s in small.statements]
    assert big.risk is Risk.HIGH, [(s.sql, s.predicted, s.calibration) for s in big.statements]
    (rewrite,) = [s for s in big.statements if s.work == "rewrite"]
    assert rewrite.calibration is not None and rewrite.predicted is not None


@pytest.fixture
def reader(history: ScratchProject) -> Iterator[dict[str, str]]:
    """A role that may create databases but cannot write to the target: in the target
    database every transaction is read-only for it, and it owns nothing there."""
    settings = history.settings()
    upgrade(settings, "b000")
    role, database = f"reader_{uuid.uuid4().hex[:8]}", settings.endpoint.database
    sql(
        settings,
        f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD 'read-only'; "
        f"ALTER ROLE {role} IN DATABASE {database} SET default_transaction_read_only = on; "
        f"GRANT USAGE ON SCHEMA app TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA app TO {role}",
    )
    try:
        yield {"DB_USER": role, "DB_PASS": "read-only"}
    finally:
        for (name,) in sql(settings, _OWNED.format(role), "postgres"):
            sql(settings, f'ALTER DATABASE "{name}" IS_TEMPLATE false', "postgres")
            sql(settings, f'DROP DATABASE "{name}" WITH (FORCE)', "postgres")
        sql(settings, f"DROP OWNED BY {role}; DROP ROLE {role}")


_OWNED = "SELECT datname FROM pg_database WHERE datdba = '{}'::regrole"
# The rows themselves, not pg_stat_database's write counters: those also move when a
# backend that ended earlier flushes its pending counts late, or autovacuum analyses.
_TABLES = "SELECT quote_ident(relname) FROM pg_class WHERE relnamespace = 'app'::regnamespace "
_TABLES += "AND relkind = 'r' ORDER BY 1"


def _target(settings: Settings) -> tuple[Any, ...]:
    with pg.session(settings.endpoint) as cur:
        shape = describe(cur, ["app", "public"])
        cur.execute(_TABLES)
        tables = [str(row[0]) for row in cur.fetchall()]
        rows = []
        for table in tables:
            digest = "md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
            cur.execute(f"SELECT {digest} FROM app.{table} t")
            rows.append((table, cur.fetchone()))
        return shape, rows


def test_the_target_is_only_read(history: ScratchProject, reader: dict[str, str]) -> None:
    """Planned by a role for which the target is read-only, the plan still traces every
    revision; the target's schema and write counters are as they were."""
    settings = history.settings()
    before = _target(settings)
    found = planned(history.settings(**reader), calibrate=False)
    assert [r.id for r in found.revisions] == ["r001", "r002", "r003", "r004", "r005"]
    assert all(r.error is None for r in found.revisions)
    assert "template snapshot" in found.clone
    assert _target(settings) == before


def test_the_clone_is_a_write_the_guard_must_allow(history: ScratchProject) -> None:
    """Where the rules refuse a write on the target's server (production), no database is
    made there: the clone is a throwaway native cluster."""
    settings = history.settings()
    upgrade(settings, "b000")
    databases = "SELECT datname FROM pg_database ORDER BY 1"
    before = sql(settings, databases)
    found = planned(history.settings(DB_ENV="production"), calibrate=False)
    assert "throwaway native cluster" in found.clone and "production" in found.clone
    assert len(found.revisions) == 5 and all(r.error is None for r in found.revisions)
    assert sql(settings, databases) == before


def test_a_second_plan_clones_the_same_template(history: ScratchProject) -> None:
    settings = history.settings()
    upgrade(settings, "b000")
    mine = f"{settings.endpoint.database}_plan_%".replace("_", "\\_").replace("\\_%", "_%")
    templates = f"SELECT datname FROM pg_database WHERE datistemplate AND datname LIKE '{mine}'"
    for _ in range(2):
        planned(settings, calibrate=False, check_downgrades=False)
        (found,) = sql(settings, templates)
        with pg.maintenance(settings.endpoint) as cur:
            assert snapshot.find(cur, found[0]) is not None
