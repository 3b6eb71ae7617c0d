"""Alembic's errors, turned into ours: one line, the revision file and line where known.

A broken history (a file that does not import, a missing parent, one id in two files, a
cycle) and a bad revision argument (unknown, ambiguous, several heads) are bad input:
exit 2. Failures while a revision runs are handled by the runner (exit 1).
"""

from __future__ import annotations

import difflib
import re
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dbtasks.errors import ConfigError, DbTasksError, first_line

HISTORY_HINT = "see `inv db.history` for the revision ids"
# Alembic only warns about these, then fails later with a KeyError or picks one file.
_ALEMBIC_WARNINGS = r"Revision \S+ (is present more than once|referenced from .* is not present)"
_RELATIVE = re.compile(r"Relative revision (\S+) didn't produce (\d+) migrations")
_DUPLICATE = re.compile(r"Revision (\S+) is present more than once")
# The child is shown as Alembic prints a script: "gone -> b1 (head), message".
_MISSING = re.compile(r"Revision (\S+) referenced from (?:.*?-> )?([^\s,(]+)")
_DECLARED = re.compile(r"""^revision\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]""", re.MULTILINE)


class RevisionError(ConfigError):
    """The revision history, or a revision named on the command line, is not usable."""


class Files:
    """Names revision files in messages, relative to the project root; `known` holds the
    revision ids and branch labels, to suggest the one a typo meant."""

    def __init__(self, locations: Sequence[Path], root: Path) -> None:
        self.locations = list(locations)
        self.root = root
        self.known: list[str] = []

    def rel(self, path: str | Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def declaring(self, rev: str) -> list[str]:
        """Files whose text declares `revision = rev` (only read on error paths)."""
        found = []
        for location in self.locations:
            for path in sorted(location.rglob("*.py")) if location.is_dir() else ():
                ids = _DECLARED.findall(path.read_text(encoding="utf-8", errors="replace"))
                if rev in ids:
                    found.append(self.rel(path))
        return found

    def is_revision_file(self, filename: str) -> bool:
        path = Path(filename).resolve()
        return any(path.is_relative_to(loc.resolve()) for loc in self.locations)


@contextmanager
def loading(files: Files) -> Iterator[None]:
    """Around reading the revision files: any defect becomes a RevisionError naming one."""
    from alembic.script.revision import RevisionError as AlembicRevisionError
    from alembic.util import CommandError

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=_ALEMBIC_WARNINGS)
            yield
    except DbTasksError:
        raise
    except UserWarning as exc:
        raise _history_warning(str(exc), files) from None
    except (AlembicRevisionError, CommandError) as exc:
        raise resolution_error(exc, files) from None
    except Exception as exc:
        located = locate(exc, files)
        if located is None:
            raise
        raise RevisionError(
            f"{located}: {type(exc).__name__}: {first_line(exc)}",
            "fix that file: every command loads every revision",
        ) from None


@contextmanager
def resolving(files: Files) -> Iterator[None]:
    """Around resolving revision arguments and walking the graph."""
    from alembic.script.revision import RevisionError as AlembicRevisionError
    from alembic.util import CommandError

    try:
        yield
    except (AlembicRevisionError, CommandError) as exc:
        raise resolution_error(exc, files) from None
    except AssertionError:  # Alembic asserts on argument shapes it does not expect
        raise RevisionError(
            "Alembic cannot read that revision argument",
            "name an id or prefix, head, heads, base, +N, -N, REV+N or label@head",
        ) from None


def resolution_error(exc: Exception, files: Files) -> RevisionError:
    from alembic.script.revision import CycleDetected, MultipleHeads, ResolutionError

    if isinstance(exc, MultipleHeads):
        return RevisionError(
            f"{len(exc.heads)} heads ({', '.join(exc.heads)}) match {exc.argument!r}",
            "merge them with `inv db.merge`, or name one head (e.g. REV or label@head)",
        )
    if isinstance(exc, CycleDetected):
        named = sorted({f for rev in exc.revisions for f in files.declaring(rev)})
        return RevisionError(
            f"the revisions form a cycle: {', '.join(exc.revisions)} ({', '.join(named)})",
            "fix their down_revision",
        )
    if "Multiple heads are present" in str(exc):
        return RevisionError(
            "the history has several heads", "merge them first with `inv db.merge`"
        )
    relative = _RELATIVE.match(str(exc))
    if relative:  # +1 at head, -1 at base, or a downgrade given +N
        return RevisionError(
            f"there are not {relative.group(2)} revision(s) to move that way from the "
            "current revision",
            "upgrade takes +N and downgrade -N; see `inv db.status` for where the database is",
        )
    if isinstance(exc, ResolutionError):
        close = difflib.get_close_matches(str(exc.argument), files.known, 3, 0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        return RevisionError(_unknown(str(exc), exc.argument), hint + HISTORY_HINT)
    return RevisionError(first_line(exc), HISTORY_HINT)


def _unknown(message: str, argument: str) -> str:
    if message.startswith("Multiple revisions start with"):
        return f"revision prefix {argument!r} is ambiguous: {message.split(':', 1)[-1].strip()}"
    if message.startswith("No such revision or branch"):
        return f"unknown revision {argument!r}"
    return first_line(Exception(message))


def _history_warning(message: str, files: Files) -> RevisionError:
    duplicate = _DUPLICATE.search(message)
    if duplicate:
        rev = duplicate.group(1)
        return RevisionError(
            f"revision id {rev} is declared by more than one file: "
            f"{', '.join(files.declaring(rev))}",
            "give one of them a new id (and fix whatever revises it)",
        )
    missing = _MISSING.search(message)
    assert missing is not None  # the warning filter matches only these two messages
    parent, child = missing.group(1), missing.group(2)
    where = ", ".join(files.declaring(child)) or f"revision {child}"
    return RevisionError(
        f"{where} revises {parent}, which no revision file declares",
        "restore that file or fix down_revision",
    )


def locate(exc: BaseException, files: Files) -> str | None:
    """'file line N' for the deepest frame of a revision file in the traceback."""
    if isinstance(exc, SyntaxError) and exc.filename and files.is_revision_file(exc.filename):
        return f"{files.rel(exc.filename)} line {exc.lineno}"
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if files.is_revision_file(f.filename)
    ]
    if not frames:
        return None
    return f"{files.rel(frames[-1].filename)} line {frames[-1].lineno}"
