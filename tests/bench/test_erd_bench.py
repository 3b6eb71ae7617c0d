"""The erd bench case end to end at a small N, and its checks failing when they should.

No wall-clock assertions: the figures go to `inv bench --only erd`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import proc
from bench.cases import erd
from bench.checks import CheckFailed
from bench.context import Bench
from bench.harness import measure
from bench.server import Server, find_psql
from dbtasks.settings import Settings
from dbtasks.stack.binaries import find_binaries

pytestmark = pytest.mark.e2e


@pytest.fixture
def bench(cluster: Settings, tmp_path: Path) -> Bench:
    binaries = find_binaries(cluster.pg_bindir)
    server = Server(cluster, binaries, find_psql(binaries))
    tmp_path.chmod(0o755)
    return Bench(server, tmp_path, proc.Mode("off"), proc.base_env())


def test_the_erd_case_checks_every_table_is_drawn_and_says_its_budgets(bench: Bench) -> None:
    result = measure(erd.erd(bench, 50), "off", 1, 0)
    assert result.failure is None
    assert all(len(samples) == 1 for samples in result.samples.values())
    notes = erd.budgets(result)
    assert any(n.startswith("mermaid_small: ") and "budget 2 s" in n for n in notes), notes
    assert all("budgets are for N=1000, not 50" in n for n in notes if " s, budget " in n)


def test_a_drawing_that_misses_a_table_fails_the_check() -> None:
    with pytest.raises(CheckFailed, match="4 tables drawn, expected 5"):
        erd.drawn_once(5)("erDiagram\n" + "    t {\n    }\n" * 4)
    with pytest.raises(CheckFailed, match="a Mermaid chunk of"):
        erd.drawn_once(1)("```mermaid\nerDiagram\n" + "x" * 50_000 + "\n```\n")
