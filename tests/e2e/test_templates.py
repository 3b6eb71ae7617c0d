"""Every revision template, filled in, through `inv db.validate`: lint clean (no finding on
its revision but the ones it acknowledges, with a reason) and a round trip that restores
the schema exactly, so each template's downgrade is tested. And `--template` is offered
where it is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dbtasks.settings import Settings
from dbtasks.templates import NAMES
from tests.projects import ScratchProject, make_project, revision_text

pytestmark = pytest.mark.e2e

BASE = "\n    ".join(
    f"op.execute({s!r})"
    for s in (
        "CREATE TABLE owners (id serial PRIMARY KEY)",
        "CREATE TABLE items (id serial PRIMARY KEY, owner_id int, name text, label text)",
        "INSERT INTO owners DEFAULT VALUES",
        "INSERT INTO items (owner_id, name) SELECT 1, 'item ' || g FROM generate_series(1, 30) g",
    )
)
UNDO = 'op.execute("DROP TABLE items, owners, applied_log")'

# What each template's constants are filled in with, on the tables of BASE.
FILLED: dict[str, dict[str, object]] = {
    "default": {},
    "add_column": {"TABLE": "items", "COLUMN": "rank", "TYPE": "integer", "VALUE": "0"},
    "index_concurrently": {"TABLE": "items", "COLUMNS": ["name"]},
    "foreign_key": {"TABLE": "items", "COLUMN": "owner_id", "REFERRED": "owners"},
    "backfill": {
        "TABLE": "items", "SET": "label = upper(name)", "WHERE": "label IS NULL",
        "UNDO_SET": "label = NULL", "UNDO_WHERE": "label IS NOT NULL",
    },
    "rename_column_expand": {"TABLE": "items", "OLD": "name", "NEW": "title"},
    "rename_column_contract": {"TABLE": "items", "OLD": "name", "NEW": "title"},
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, cluster: Settings) -> ScratchProject:
    made = make_project(tmp_path, cluster)
    (made.versions / "000_r000.py").write_text(revision_text("r000", None, BASE, UNDO))
    return made


def fill(path: Path, values: dict[str, object]) -> None:
    text = path.read_text()
    for name, value in values.items():
        text, count = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", text, count=1, flags=re.M)
        assert count == 1, f"{name} not in {path.name}"
    path.write_text(text)


def write(project: ScratchProject, name: str, message: str) -> Path:
    before = set(project.revision_files())
    result = project.inv("db.revision", "-m", message, "--template", name)
    assert result.returncode == 0, result.stderr
    (new,) = set(project.revision_files()) - before
    return new


@pytest.mark.parametrize("name", [n for n in NAMES if n != "rename_column_contract"])
def test_each_template_filled_in_passes_validate(project: ScratchProject, name: str) -> None:
    written = [write(project, name, f"use {name}")]
    fill(written[0], FILLED[name])
    if name == "rename_column_expand":  # the two steps, in order
        written.append(write(project, "rename_column_contract", "contract the rename"))
        fill(written[1], FILLED["rename_column_contract"])
    result = project.inv(
        "db.validate", "--json", "--only", "lint", "--only", "roundtrip", "--only", "graph"
    )
    report = json.loads(result.stdout)
    checks = {c["check"]: c for c in report["checks"]}
    assert result.returncode == 0, json.dumps(report, indent=1)
    assert checks["roundtrip"]["level"] == "pass" and checks["lint"]["level"] in ("pass", "warn")
    ours = {p.name for p in written}
    mine = [
        f for c in report["checks"] for f in c["findings"] if Path(f.get("file") or "").name in ours
    ]
    # Lint clean: nothing but what the template acknowledges itself, with its reason.
    assert [f for f in mine if not f["message"].startswith("acknowledged: ")] == [], mine


def test_upgrade_and_downgrade_of_the_patterns_keep_the_data(project: ScratchProject) -> None:
    for name in ("add_column", "backfill"):
        fill(write(project, name, f"use {name}"), FILLED[name])
    assert project.inv("db.upgrade").returncode == 0
    assert project.inv("db.downgrade", "base", "--yes").returncode == 0


def test_templates_are_listed_in_help(project: ScratchProject) -> None:
    for task in ("db.revision", "db.init"):
        shown = project.inv("--help", task).stdout
        assert "--template" in shown
        assert all(name in " ".join(shown.split()) for name in NAMES), shown


def test_an_unknown_template_is_bad_input(project: ScratchProject) -> None:
    result = project.inv("db.revision", "-m", "x", "--template", "nope")
    assert result.returncode == 2 and "nope" in result.stderr
    assert "Traceback" not in result.stderr
