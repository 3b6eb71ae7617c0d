"""The pytest plugin's per-test database against a bare template clone and drop.

The plugin's cost per test is (a pytest run of T tests asking for `dbtasks_database`
minus the same T tests without it) / T; the floor is psql cloning the same snapshot and
dropping the clone T times in one session. The first test of the timed file checks that
its database is at head with every object, so the plugin cannot time an empty database.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import proc
from bench.cases.reset import snapshot_oid
from bench.checks import CheckFailed, require_at_head
from bench.context import Bench
from bench.harness import Case, Ratio, Side
from bench.project import Project

TESTS = 15
DATABASE, CHECKED = "plugin_ours", "plugin_check"

CHECK_TEST = """
import psycopg2


def test_0_is_at_head(dbtasks_database):
    conn = psycopg2.connect(**dbtasks_database.endpoint.connect_kwargs())
    with conn, conn.cursor() as cur:
        cur.execute("SELECT version_num FROM app.alembic_version")
        assert cur.fetchall() == [({head!r},)]
        cur.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'app' "
            "AND tablename <> 'dbtasks_revision_log'"
        )
        assert cur.fetchone()[0] == {tables}
    conn.close()
"""


def _test_files(project: Project) -> None:
    with_db = CHECK_TEST.format(
        head=project.history.head, tables=project.history.expected.tables + 1
    )
    with_db += "".join(f"\n\ndef test_{i}(dbtasks_database):\n    pass\n" for i in range(1, TESTS))
    without = "".join(f"\n\ndef test_{i}():\n    pass\n" for i in range(TESTS))
    (project.root / "test_with_db.py").write_text(with_db, encoding="utf-8")
    (project.root / "test_without_db.py").write_text(without, encoding="utf-8")


def _snapshot_name(b: Bench) -> str:
    rows = b.server.query(
        "SELECT datname FROM pg_database WHERE oid = %s", snapshot_oid(b, DATABASE)
    )
    return str(rows[0][0])


def _no_clones_left(b: Bench, prefix: str) -> None:
    left = b.server.query("SELECT datname FROM pg_database WHERE datname LIKE %s", f"{prefix}%")
    if left:
        raise CheckFailed(f"{len(left)} per-test databases were left behind, e.g. {left[0][0]}")


@dataclass
class _Plugin:
    b: Bench
    project: Project
    template: str = ""

    @property
    def env(self) -> dict[str, str]:
        return self.b.ours(DATABASE)

    def pytest(self, name: str) -> None:
        result = proc.run([*proc.PYTEST, name], self.project.root, self.env)
        proc.expect(result, f"{TESTS} passed", f"pytest {name}")

    def floor(self) -> None:
        pairs = [
            (
                "-c",
                f"CREATE DATABASE bare_{i} TEMPLATE {self.template}",
                "-c",
                f"DROP DATABASE bare_{i}",
            )
            for i in range(TESTS)
        ]
        args = [*self.b.server.psql_args("postgres"), *(arg for pair in pairs for arg in pair)]
        proc.run(args, self.project.root, self.b.raw("postgres"))

    def setup(self) -> None:
        """Build the snapshot (through a reset) and check a clone of it is at head."""
        _test_files(self.project)
        self.b.server.recreate(DATABASE)
        proc.run([*proc.INV, "db.reset", "--yes"], self.project.root, self.env)
        self.template = _snapshot_name(self.b)
        self.b.server.recreate(CHECKED, template=self.template)
        where = f"a clone of {self.template}"
        require_at_head(self.b.server.state(CHECKED), self.project.history, where)


def plugin(b: Bench, n: int) -> Case:
    bench = _Plugin(b, b.project(n))
    sides = [
        Side(
            "plugin",
            f"pytest: {TESTS} tests with dbtasks_database",
            lambda: bench.pytest("test_with_db.py"),
            verify=lambda: _no_clones_left(b, "test\\_"),
        ),
        Side(
            "no-db", f"pytest: {TESTS} tests without it", lambda: bench.pytest("test_without_db.py")
        ),
    ]
    ratios = []
    if b.server.psql is not None:
        label = f"psql: {TESTS} x CREATE DATABASE ... TEMPLATE + DROP"
        sides.append(
            Side("floor", label, bench.floor, verify=lambda: _no_clones_left(b, "bare\\_"))
        )
        ratios.append(Ratio("plugin", "floor", 1.5, minus="no-db", compare_cpu=False))
    return Case("plugin", n, tuple(sides), tuple(ratios), bench.setup)
