"""Which targets a fleet command runs on: `--all`, `--target`, `--group`, `--shard`.

Pure functions over parsed targets, so the rules that keep production out of a broad
run are unit-tested without a database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbtasks.errors import ConfigError, Refused
from dbtasks.fleet.targets import Target

_HINT = "see docs/fleet.md"


@dataclass(frozen=True)
class Shard:
    """Share `index` of `count` (0-based)."""

    index: int
    count: int


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> Shard:
    """`I/N`, or `auto/N` taking I from Kubernetes' `JOB_COMPLETION_INDEX`."""
    env = os.environ if environ is None else environ
    head, sep, tail = text.partition("/")
    if head == "auto":
        head = env.get("JOB_COMPLETION_INDEX", "")
        if not head:
            raise ConfigError("--shard auto/N needs JOB_COMPLETION_INDEX set", _HINT)
    if not sep or not head.isdigit() or not tail.isdigit():
        raise ConfigError(f"--shard {text!r} must be I/N or auto/N", _HINT)
    shard = Shard(int(head), int(tail))
    if shard.count < 1 or shard.index >= shard.count:
        raise ConfigError(f"--shard {text!r}: I must be in 0..N-1", _HINT)
    return shard


def in_shard(name: str, shard: Shard) -> bool:
    """A stable share: the same name lands in the same shard on every machine and run.

    Python's `hash()` is salted per process; two shard jobs must agree, so a digest is used.
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shard.count == shard.index


def select(
    targets: Mapping[str, Target],
    *,
    every: bool = False,
    names: Sequence[str] = (),
    group: str | None = None,
    shard: Shard | None = None,
    reads: bool = False,
) -> list[Target]:
    """The chosen targets in stable (name) order; production only when named, unless
    the command only `reads` (a status of the whole fleet shows production too)."""
    if sum((every, bool(names), group is not None)) != 1:
        raise ConfigError("give exactly one of --all, --target or --group", _HINT)
    if names:
        chosen = [_named(targets, name) for name in dict.fromkeys(names)]
    else:
        pool = [t for t in targets.values() if every or t.group == group]
        if group is not None and not pool:
            raise ConfigError(f"no target is in group {group!r}", _HINT)
        chosen = [t for t in pool if reads or not t.explicit_only]
    chosen.sort(key=lambda target: target.name)
    if shard is not None:
        chosen = [t for t in chosen if in_shard(t.name, shard)]
    return chosen


def _named(targets: Mapping[str, Target], name: str) -> Target:
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise ConfigError(f"no target named {name!r} (known: {known})", _HINT)
    return targets[name]


def require_consent(chosen: Sequence[Target], yes: bool) -> None:
    """A change to a production target needs `--yes`, whatever selected it."""
    production = [t.name for t in chosen if t.explicit_only or t.role == "production"]
    if production and not yes:
        raise Refused(
            f"targets {', '.join(production)} are production",
            "add --yes to change them",
        )
