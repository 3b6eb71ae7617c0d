"""Plans: which revisions a command will apply or undo, resolved exactly as Alembic runs them.

Every target form Alembic accepts works: ids and unique prefixes, `head`, `heads`, `base`,
`+N`, `-N`, `REV+N`, `label@head`. The plan shown is the plan run: the runner is handed
these revisions, in this order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dbtasks.adapter.errors import RevisionError, resolving

if TYPE_CHECKING:
    from alembic.script import Script

    from dbtasks.adapter.workspace import Workspace
    from dbtasks.migrations.graph import Revision


def named(spec: str) -> str:
    """A revision argument, or bad input: Alembic asserts on an empty one, and on an "@"
    without a branch and a revision on either side of it."""
    if not spec.strip():
        raise RevisionError(
            "the revision is empty", "name one: an id or prefix, head, heads, base, +N or -N"
        )
    for part in spec.strip().split(":"):
        label, at, rest = part.partition("@")
        if at and (not label.strip() or not rest.strip() or "@" in rest):
            raise RevisionError(
                f"revision {spec.strip()!r} is malformed: '@' joins a branch label (or a "
                "revision) and a revision, as in label@head",
                "name an id or prefix, head, heads, base, +N, -N, REV+N or label@head",
            )
    return spec.strip()


def _labelled(ws: Workspace, spec: str) -> str:
    """`label@...` names a branch label (or a revision) the history has: Alembic's own
    error would call an unknown label an unknown revision."""
    label, at, _ = spec.partition("@")
    if not at or not label:
        return spec
    revisions = list(ws.graph.walk())
    labels = sorted({name for r in revisions for name in r.branch_labels})
    if label in labels or any(r.id.startswith(label) for r in revisions):
        return spec
    known = f"the history's labels: {', '.join(labels)}" if labels else "the history has none"
    raise RevisionError(f"unknown branch label {label!r}", known)


@contextmanager
def _strict(ws: Workspace) -> Iterator[None]:
    # Alembic only warns that "-1 from several heads" is ambiguous, then picks one.
    with warnings.catch_warnings(), resolving(ws.files):
        warnings.filterwarnings("error", message=".* is ambiguous")
        try:
            yield
        except UserWarning as exc:
            raise RevisionError(str(exc).split(";")[0], "name the revision to go to") from None


def _ours(ws: Workspace, scripts: list[Script]) -> list[Revision]:
    return [ws.graph.get(s.revision) for s in scripts]


def upgrade_plan(ws: Workspace, current: tuple[str, ...], target: str) -> list[Revision]:
    """The revisions an upgrade from `current` to `target` applies, in order."""
    target = _labelled(ws, named(target))
    with _unambiguous(ws, current, target, upgrade=True), _strict(ws):
        walked = list(ws.script.iterate_revisions(target, current, implicit_base=True))
    return _ours(ws, list(reversed(walked)))


def downgrade_plan(ws: Workspace, current: tuple[str, ...], target: str) -> list[Revision]:
    """The revisions a downgrade from `current` to `target` undoes, newest first."""
    target = _labelled(ws, named(target))
    if not current:
        return []
    with _unambiguous(ws, current, target, upgrade=False), _strict(ws):
        walked = list(ws.script.iterate_revisions(current, target, select_for_downgrade=True))
    return _ours(ws, walked)


@contextmanager
def _unambiguous(
    ws: Workspace, current: tuple[str, ...], target: str, upgrade: bool
) -> Iterator[None]:
    """A relative step (+1, -2) where the history forks: name the candidates, and the
    command for each, instead of Alembic's "Ambiguous walk"."""
    try:
        yield
    except RevisionError as exc:
        if "mbiguous" not in exc.message or not target.lstrip().startswith(("+", "-")):
            raise
        graph = ws.graph
        near = (
            [c for rev in current or ("",) for c in (graph.children(rev) if rev else graph.roots())]
            if upgrade
            else [p for rev in current for p in graph.get(rev).down]
        )
        verb = "upgrade" if upgrade else "downgrade"
        where = ", ".join(current) or "base"
        commands = " or ".join(f"`inv db.{verb} {'-r ' if upgrade else ''}{c}`" for c in near)
        raise RevisionError(
            f"{target!r} from {where} is ambiguous: the history forks there ({', '.join(near)})",
            f"name the revision: {commands}",
        ) from None


def history(ws: Workspace, rng: str | None) -> list[Revision]:
    """Revisions newest first, optionally limited to LOWER:UPPER."""
    if not rng:
        return list(ws.graph.walk())
    if ":" not in rng:
        raise RevisionError(
            f"-r {rng!r} is not a range", "use LOWER:UPPER, e.g. base:head or abc1:"
        )
    named(rng)
    lower, _, upper = (part.strip() for part in rng.partition(":"))
    with _strict(ws):
        for end in (lower, upper):
            if end and end not in ("base", "head", "heads"):
                ws.script.revision_map.get_revisions(end)  # names an unknown or ambiguous end
        walked = list(ws.script.walk_revisions(lower or "base", upper or "heads"))
    return _ours(ws, walked)


def resolve(ws: Workspace, spec: str) -> Revision:
    """One revision from an id, a unique prefix, `head` or `label@head`."""
    spec = _labelled(ws, named(spec))
    with _strict(ws):
        found = ws.script.revision_map.get_revision(spec)
    if found is None:
        raise RevisionError(f"{spec!r} names no single revision", "name one revision")
    return ws.graph.get(found.revision)


def stamp_heads(ws: Workspace, current: tuple[str, ...], target: str) -> tuple[str, ...]:
    """What the version table holds after stamping `target` over `current`: the target's
    revisions, plus current heads on other branches, which a stamp leaves alone."""
    graph = ws.graph
    target = named(target)
    if target == "base":
        return ()
    with _strict(ws):
        found = ws.script.revision_map.get_revisions(target)
    wanted = tuple(sorted(r.revision for r in found if r is not None and not isinstance(r, str)))
    below = graph.ancestors(wanted)
    kept = [  # neither below a target nor above one: another branch
        c
        for c in current
        if c in graph and c not in below and not set(wanted) & graph.ancestors([c])
    ]
    return tuple(sorted({*wanted, *kept}))
