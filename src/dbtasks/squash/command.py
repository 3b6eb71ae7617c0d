"""`inv db.squash`: its three uses, each one function.

- `squash(...)` (`--upto REV`): a command in the shape of a check — it reads the target's
  history and writes only to the scratch databases the guard grants it, and to the version
  folders through their FileGrant; the configured database is never touched.
- `prune(...)` (`--prune --past DB ...`): deletes the replaced files once every database
  the user names is past the squash point.
- `--catch-up` is a Flow (`frozen.CatchUp`), run by `workflow.execute` like db.upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks import guard
from dbtasks.errors import CheckFailed, ConfigError, DbTasksError, Refused

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.console import Console
    from dbtasks.settings import Settings
    from dbtasks.squash.build import Baseline
    from dbtasks.squash.cut import Cut
    from dbtasks.squash.frozen import Squashed as Baseline_
    from dbtasks.workflow import Work

SHOWN_DIFFERENCES = 8


@dataclass
class Squashed:
    upto: str
    path: str
    replaced: int
    folder: str
    carried: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def squash(
    settings: Settings, console: Console, upto: str, message: str, allow_remote: bool = False
) -> Squashed:
    from dbtasks.workflow import read

    return read(lambda work: _squash(work, upto, message, allow_remote), settings, console,
                needs_database=False)  # fmt: skip


def _squash(work: Work, upto: str, message: str, allow_remote: bool) -> Squashed:
    from dbtasks.adapter.plan import resolve
    from dbtasks.squash.cut import cut

    ws = work.ws
    if ws.state.where.recursive:
        raise ConfigError(
            "recursive_version_locations is on: Alembic would read the replaced files too",
            "turn it off to squash (docs/squash.md)",
        )
    found = cut(ws.graph, resolve(ws, upto).id)
    work.console.step(f"replaying {len(found.replaced)} revisions up to {found.upto.id}")
    baseline, digest = prove(work, found, allow_remote)
    work.console.ok(f"fingerprints equal: the baseline rebuilds {found.upto.id} exactly")
    return install(ws, found, baseline, digest, message or f"squash up to {found.upto.id}")


def prove(work: Work, found: Cut, allow_remote: bool) -> tuple[Baseline, str]:
    """The baseline, proven: replayed and loaded fingerprints equal, or CheckFailed."""
    from dbtasks.catalog.fingerprint import fingerprint_diff
    from dbtasks.squash import build

    with build.scratch_pair(work.settings, work.console, allow_remote) as (old, new):
        build.replay(work.ws, old, found.upto.id)
        with build.prepared(new) as connection:
            reference = build.read(new)
            baseline = build.compose(work.ws, found, old, new, reference)
            build.load(connection, _read_back(baseline), new.grant)
        differences = fingerprint_diff(baseline.replayed, build.read(new))
    if differences:
        raise CheckFailed(
            f"the baseline would not rebuild {found.upto.id}: {len(differences)} "
            f"difference(s): {'; '.join(differences[:SHOWN_DIFFERENCES])}"
            + (" ..." if len(differences) > SHOWN_DIFFERENCES else "")
            + (f"; {'; '.join(baseline.notes)}" if baseline.notes else ""),
            "nothing was written; see docs/squash.md for what a squash carries",
        )
    return baseline, build.digest(baseline.replayed)


def _read_back(baseline: Baseline) -> str:
    """The upgrade's SQL as the written file will hold it: rendered as a Python literal and
    read back, so the proof covers the file's text as well."""
    from dbtasks.squash.render import python_string, script

    text = script(baseline.upgrade)
    import ast

    value = ast.literal_eval(python_string(text))
    if value != text:
        raise DbTasksError("the baseline's SQL does not survive as a Python literal")
    return str(value)


def install(ws: Workspace, found: Cut, baseline: Baseline, digest: str, message: str) -> Squashed:
    """Move the replaced files aside and write the baseline in the first version folder."""
    from dbtasks.adapter.autogen import as_template_text, rendered
    from dbtasks.flows.author import revision_files, validate_message
    from dbtasks.squash import files
    from dbtasks.squash.render import TEMPLATE, Source

    text = validate_message(message)
    source = Source(
        as_template_text(text), found.upto.id, found.ids, found.labels, baseline.upgrade,
        baseline.downgrade, digest, baseline.notes, baseline.carried,
    )  # fmt: skip
    grant = revision_files(ws.state.where.folders)
    # Named after the file it replaces: it sorts where REV did, before the revisions after it.
    replaced = Path(found.upto.path)
    path = replaced.with_name(f"{replaced.stem}_squashed.py")
    moved = files.move_replaced(found, grant)
    files.write_baseline(ws, path, rendered(TEMPLATE, **source.values()), moved, grant)
    where = files.replaced_folder(found.upto.path, found.upto.id)
    return Squashed(
        found.upto.id, ws.relpath(path), len(found.replaced), ws.relpath(where),
        baseline.carried, baseline.notes,
    )  # fmt: skip


def prune(
    settings: Settings, console: Console, past: list[str], yes: bool, fleet: bool = False
) -> int:
    """Delete the replaced files of every baseline, once each database in `past` (names
    on the configured server), or with `fleet` every member of every configured target,
    is past its squash point; how many files went."""
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.flows.author import revision_files
    from dbtasks.squash import files, frozen

    if not past and not fleet:
        raise ConfigError(
            "--prune needs --past for every database that may still be behind the squash "
            "point, or --all for every configured target",
            "pass --past NAME for each database on this server, e.g. --past app --past app_test",
        )
    ws = Workspace.open(settings)
    squashed = [s for s in frozen.baselines(ws) if not s.pruned]
    if not squashed:
        console.ok("no replaced files to prune")
        return 0
    standing = [_database(settings, name) for name in past]
    standing += _fleet_standing(settings, console) if fleet else []
    for each in standing:
        each.past_every(ws, squashed)
    console.line(f"{len(standing)} database(s) past the squash point")
    folders = [f for s in squashed for f in s.folders]
    shown = ", ".join(ws.relpath(f) for f in folders)
    guard.confirm(console, f"delete the replaced revision files in {shown}", yes)
    return files.prune(folders, revision_files(ws.state.where.folders))


@dataclass(frozen=True)
class Standing:
    """Where one database a prune must not strand stands, and what brings it forward."""

    label: str
    current: tuple[str, ...]
    fix: str

    def past_every(self, ws: Workspace, squashed: list[Baseline_]) -> None:
        graph = ws.graph
        done = graph.ancestors(self.current) if not graph.unknown(self.current) else set()
        for each in squashed:
            if each.upto not in done:
                raise Refused(
                    f"refusing to prune: {self.label} is at {', '.join(self.current) or 'base'}"
                    f", not past the squash point {each.upto}",
                    self.fix,
                )


def _database(settings: Settings, name: str) -> Standing:
    from dbtasks import pg
    from dbtasks.migrations.version_table import locate, read_current

    with pg.session(settings.endpoint, name) as cur:
        current = tuple(read_current(cur, locate(cur, settings)))
    fix = f"run `DB_NAME={name} inv db.squash --catch-up` (then `inv db.upgrade`) first"
    return Standing(f"database {name!r}", current, fix)


def _fleet_standing(settings: Settings, console: Console) -> list[Standing]:
    """Where every member of the fleet that shares this history stands (production
    included: this only reads); a member that does not answer refuses the prune."""
    from dbtasks.fleet.commands import Selection, histories, members
    from dbtasks.fleet.matrix import read_matrix

    found = [
        m
        for m in members(settings, Selection(every=True), reading=True)
        if m.settings.alembic_config == settings.alembic_config  # a history of its own: not ours
    ]
    console.secrets += [m.settings.endpoint.password for m in found]
    rows = read_matrix(found, histories(found, console), 8)
    for row in rows:
        if row.error is not None:
            raise Refused(
                f"refusing to prune: member {row.member} does not answer ({row.error})",
                "it may be behind the squash point: fix its connection, or name the "
                "databases with --past",
            )
    return [
        Standing(f"member {r.member}", r.current, f"`inv db.upgrade --target {r.target}` first")
        for r in rows
    ]
