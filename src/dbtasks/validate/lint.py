"""The lint check: every revision's SQL through squawk, judged by what it locks or destroys.

squawk knows which statements take heavy locks or lose data; it cannot know which tables
already hold rows. A revision that creates a table and indexes it is fine; one that
indexes a live table without CONCURRENTLY blocks its writes for the whole build. So the
locking and destructive rules fail only on tables that exist before the revision, unless
the revision acknowledges them (`dbtasks_allow`, see docs/ci.md); every other finding
warns. All revisions go through one squawk run: starting squawk once per revision cost
six times as much on a 100-revision history.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dbtasks import shell
from dbtasks.errors import DbTasksError
from dbtasks.validate import Finding, fail, warn
from dbtasks.validate.sqlscan import Name, Script, Statement, scan

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.settings import Settings

INSTALL = "pip install 'dbtasks[validate]'"
MARKER = "dbtasks_allow"  # the module-level acknowledgment in a revision file

# Locking or destructive on a table that already has rows and readers: FAIL, unless the
# table is one the same revision created.
ON_EXISTING = frozenset(
    {
        # the data, or the names running code reads, are gone
        "ban-drop-table",
        "ban-drop-column",
        "ban-truncate-cascade",
        "renaming-table",
        "renaming-column",
        # ACCESS EXCLUSIVE or SHARE locks held while a table is scanned or rewritten
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "require-concurrent-reindex",
        "require-concurrent-partition-detach",
        "adding-required-field",
        "adding-not-nullable-field",
        "adding-field-with-default",
        "adding-serial-primary-key-field",
        "adding-foreign-key-constraint",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "changing-column-type",
    }
)
# FAIL wherever they appear: whole databases or schemas dropped, or a statement Postgres
# refuses to run (CREATE INDEX CONCURRENTLY inside a transaction).
ALWAYS = frozenset(
    {"ban-drop-database", "ban-drop-schema", "ban-concurrent-index-creation-in-transaction"}
)
FAILING = ON_EXISTING | ALWAYS
# squawk renamed and split rules over its versions: an ignore list or acknowledgment
# written for one version keeps meaning the same rules in another.
_SPLIT = {"requiretimeoutsettings": ("requirelocktimeout", "requirestatementtimeout")}
_BATCH = 500  # files per squawk run: far below any command-line length limit


@dataclass(frozen=True)
class Report:
    """One squawk finding, placed in the revision's SQL."""

    rule: str
    line: int  # 1-based
    column: int  # 0-based
    message: str
    help: str | None = None


@dataclass(frozen=True)
class Revision:
    """One revision ready for squawk: its SQL, walked, and what it acknowledges."""

    id: str
    file: str
    script: Script
    allow: Mapping[str, str] = field(default_factory=dict)  # rule -> reason


def lint(ws: Workspace, sql_for: Callable[[str], str], settings: Settings) -> list[Finding]:
    """Lint every revision's upgrade SQL, oldest first."""
    squawk = find_squawk()
    if squawk is None:
        return [warn(f"squawk is not installed, no SQL was linted: {INSTALL}")]
    findings, revisions = prepare(ws, sql_for, _already_deployed(ws, settings))
    texts = [r.script.for_squawk() for r in revisions]
    reports = run_squawk(squawk, texts, settings.server_version)
    ignore = rule_keys(settings.lint_ignore)
    for revision, found in zip(revisions, reports, strict=True):
        findings += judge(revision, found, ignore)
    # Each revision's findings together, oldest revision first (the sort is stable).
    order = {rev.id: i for i, rev in enumerate(reversed(ws.graph.revisions))}
    return sorted(findings, key=lambda f: order.get(f.revision or "", -1))


def find_squawk() -> str | None:
    """The squawk the `squawk-cli` wheel installed beside this Python, else one on PATH."""
    name = "squawk.exe" if os.name == "nt" else "squawk"
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (folder / name).is_file() and os.access(folder / name, os.X_OK):
            return str(folder / name)
    return shutil.which("squawk")


def _already_deployed(ws: Workspace, settings: Settings) -> set[str]:
    """DB_LINT_FROM and everything below it: history that ran long ago is not linted."""
    if not settings.lint_from:
        return set()
    from dbtasks.adapter.plan import resolve

    return ws.graph.ancestors([resolve(ws, settings.lint_from).id])


def prepare(
    ws: Workspace, sql_for: Callable[[str], str], skip: set[str] | None = None
) -> tuple[list[Finding], list[Revision]]:
    """Each revision's SQL and acknowledgments; a revision without SQL is a warning."""
    version = Name(ws.version.table, ws.version.schema)
    findings: list[Finding] = []
    revisions = []
    for rev in reversed(ws.graph.revisions):  # the graph lists newest first
        if skip and rev.id in skip:
            continue
        file = ws.relpath(rev.path)
        try:
            sql = sql_for(rev.id)
        except DbTasksError as exc:
            findings.append(warn(f"not linted: {exc.message}", rev.id, file))
            continue
        allow, problem = allowances(ws.module(rev.id))
        if problem:
            findings.append(warn(problem, rev.id, file))
        revisions.append(Revision(rev.id, file, scan(sql, version), allow))
    return findings, revisions


def allowances(module: ModuleType | None) -> tuple[dict[str, str], str | None]:
    """The rules a revision acknowledges, with reasons, and what is wrong with its marker."""
    raw = getattr(module, MARKER, None)
    if raw is None:
        return {}, None
    if isinstance(raw, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        return {k: v.strip() or "no reason given" for k, v in raw.items()}, None
    if isinstance(raw, set | frozenset | list | tuple) and all(isinstance(k, str) for k in raw):
        return dict.fromkeys(raw, f"listed in {MARKER}"), None
    return {}, (
        f"{MARKER} is ignored: it must map rule names to reasons, "
        f'e.g. {{"ban-drop-column": "unused since v2"}}, or be a set of rule names'
    )


def rule_keys(names: Iterable[str]) -> set[str]:
    """Rule names compared the way squawk's aliases allow: case and dashes aside."""
    keys: set[str] = set()
    for name in names:
        key = _key(name)
        keys.update(_SPLIT.get(key, (key,)))
    return keys


def _key(name: str) -> str:
    return re.sub(r"[-_\s]", "", name).lower()


def judge(revision: Revision, reports: list[Report], ignore: set[str]) -> list[Finding]:
    """squawk's findings on one revision, as levels: see the module docstring."""
    findings: list[Finding] = []
    used: set[str] = set()
    for report in [*reports, *unparsed(revision.script)]:
        statement = revision.script.at(report.line, report.column)
        if _dropped(report, statement, ignore):
            continue
        text = describe(report, statement)
        acknowledged = _acknowledged(revision.allow, report.rule)
        if acknowledged is not None:
            used.add(acknowledged)
            reason = revision.allow[acknowledged]
            findings.append(warn(f"acknowledged: {reason} ({text})", revision.id, revision.file))
        else:
            level = fail if report.rule in FAILING else warn
            findings.append(level(text, revision.id, revision.file))
    for rule in sorted(set(revision.allow) - used):
        unused = f"{MARKER} acknowledges {rule}, which nothing in this revision triggers"
        findings.append(warn(unused, revision.id, revision.file))
    return findings


def unparsed(script: Script) -> list[Report]:
    """The statements Postgres' parser rejects, as squawk reports one it cannot parse:
    squawk never sees them (it would stop checking there), so lint says so itself."""
    return [
        Report(
            "syntax-error", s.first_line, s.start - script.line_starts[s.first_line - 1], s.error
        )
        for s in script.statements
        if s.error is not None
    ]


def _dropped(report: Report, statement: Statement | None, ignore: set[str]) -> bool:
    if _key(report.rule) in ignore:
        return True
    if statement is None:
        return False
    if statement.runner:  # BEGIN/COMMIT around the revision: the runner's, not its own
        return True
    return report.rule in ON_EXISTING and statement.on_new


def _acknowledged(allow: Mapping[str, str], rule: str) -> str | None:
    """The marker's entry that names `rule`, if any."""
    return next((name for name in allow if _key(rule) in rule_keys([name])), None)


def describe(report: Report, statement: Statement | None) -> str:
    where = f"SQL line {report.line}"
    if statement is not None:
        excerpt = " ".join(statement.sql.split())
        where += f": {excerpt[:77]}..." if len(excerpt) > 80 else f": {excerpt}"
    text = f"{report.rule} [{where}] {report.message}"
    if statement is not None and statement.error is not None:
        text += " (Postgres' parser rejects this statement, so it was not checked)"
    elif report.rule == "syntax-error":
        text += " (squawk could not parse this statement, so it was not checked)"
    return f"{text} {report.help}" if report.help else text


def run_squawk(squawk: str, texts: list[str], pg_version: str | None = None) -> list[list[Report]]:
    """squawk's findings for each SQL text, in order, from as few runs as possible."""
    reports: list[list[Report]] = [[] for _ in texts]
    with tempfile.TemporaryDirectory(prefix="dbtasks-lint-") as tmp:
        root = Path(tmp)
        # A config of our own: no .squawk.toml of the project (or above the temporary
        # directory) may exclude rules or assume transactions behind the settings' back.
        config = root / "squawk.toml"
        config.write_text("", encoding="utf-8")
        paths = [root / f"{i:05d}.sql" for i in range(len(texts))]
        for path, text in zip(paths, texts, strict=True):
            path.write_text(text, encoding="utf-8")
        for start in range(0, len(paths), _BATCH):
            for item in _squawk_json(squawk, paths[start : start + _BATCH], config, pg_version):
                reports[int(Path(item["file"]).stem)].append(_report(item))
    return reports


def _squawk_json(
    squawk: str, paths: list[Path], config: Path, pg_version: str | None
) -> list[dict[str, Any]]:
    args = [squawk, "--reporter", "json", "--config", str(config), "--no-assume-in-transaction"]
    if pg_version and re.fullmatch(r"\d+(\.\d+)?", pg_version.strip()):
        args += ["--pg-version", pg_version.strip()]
    env = {**os.environ, "SQUAWK_DISABLE_GITHUB_ANNOTATIONS": "1"}
    result = shell.run([*args, *map(str, paths)], env=env)
    try:
        found = json.loads(result.stdout)
    except ValueError:
        found = None
    # squawk exits 1 when it found something; anything else, or no JSON, is squawk failing.
    if result.returncode not in (0, 1) or not isinstance(found, list):
        why = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise DbTasksError(
            f"squawk failed (exit {result.returncode}): {why}",
            f"check that `{squawk} --version` runs, or reinstall it: {INSTALL}",
        )
    return found


def _report(item: dict[str, Any]) -> Report:
    """One entry of squawk's JSON report; its lines count from 0."""
    return Report(
        rule=str(item["rule_name"]),
        line=int(item["line"]) + 1,
        column=int(item.get("column") or 0),
        message=str(item.get("message") or "").strip(),
        help=(str(item["help"]).strip() or None) if item.get("help") else None,
    )
