"""`db.validate`'s `squash` check: every baseline of the history, proven again.

For each baseline, one scratch database is upgraded to its squash point through the
baseline (by Alembic, as any database will be) and another through the replaced files;
their fingerprints must be equal, rows counted (two replays differ in what `now()` wrote;
the squash itself compared contents). The baseline's build is also compared with the
fingerprint recorded when it was written, contents included: a warning when they differ
(an edited baseline, or another server version that prints a definition differently).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.validate import Finding, fail, warn

if TYPE_CHECKING:
    from dbtasks.adapter.workspace import Workspace
    from dbtasks.console import Console
    from dbtasks.squash.frozen import Squashed

SHOWN = 5


def verify(ws: Workspace, console: Console, allow_remote: bool) -> list[Finding]:
    from dbtasks.squash.frozen import baselines

    found: list[Finding] = []
    for squashed in baselines(ws):
        found += _one(ws, squashed, console, allow_remote)
    return found


def _one(ws: Workspace, squashed: Squashed, console: Console, allow_remote: bool) -> list[Finding]:
    from dbtasks.catalog.fingerprint import fingerprint_diff
    from dbtasks.squash import build, frozen

    where = (squashed.upto, ws.relpath(squashed.path))
    with build.scratch_pair(ws.settings, console, allow_remote) as (old, new):
        build.replay(ws, new, squashed.upto)
        loaded = build.read(new)
        if not squashed.pruned:
            build.replay(frozen.workspace(ws.settings, squashed), old, squashed.upto)
            differences = fingerprint_diff(build.counted(build.read(old)), build.counted(loaded))
            if differences:
                shown = "; ".join(differences[:SHOWN]) + (
                    " ..." if len(differences) > SHOWN else ""
                )
                return [
                    fail(
                        "the baseline does not rebuild what the revisions it replaces made: "
                        + shown,
                        *where,
                    )
                ]
    if build.digest(loaded) == squashed.fingerprint:
        return []
    return [
        warn(
            "the baseline loads other contents than the fingerprint recorded when it was "
            "written: an edit, or another server version",
            *where,
        )
    ]
