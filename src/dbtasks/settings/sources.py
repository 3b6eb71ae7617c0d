"""Where settings come from: the project root, `[tool.dbtasks]`, `.env`, the environment.

Each layer maps setting fields to raw values; `dbtasks.settings` parses and validates them.
Misspelt keys are named with the nearest known key rather than silently ignored: a
misspelt `DB_ENV=production` would otherwise switch the production guard off.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbtasks.errors import ConfigError
from dbtasks.settings.keys import BY_ENV, BY_FIELD, CONNECTION, KEYS

# Files that mark a project's own root. The nearest directory holding one wins, so a
# monorepo's parent `.env` or pyproject.toml is never picked up by a sub-project.
ROOT_MARKERS = ("pyproject.toml", "tasks.py", "alembic.ini")


@dataclass
class Layer:
    """One source of settings: its name and the raw values it sets, by field."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory upwards holding a root marker; the start directory otherwise."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if any((candidate / marker).is_file() for marker in ROOT_MARKERS):
            return candidate
    return here


def nearest(name: str, known: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The known key a misspelt one most likely meant."""
    import difflib

    known = list(known)
    matches = difflib.get_close_matches(name.upper(), [k.upper() for k in known], 1, cutoff)
    if not matches:
        return None
    return next(k for k in known if k.upper() == matches[0])


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    guess = nearest(name, known)
    return f" (did you mean {guess}?)" if guess else ""


def pyproject_layer(root: Path, fields: Mapping[str, object]) -> Layer:
    """The `[tool.dbtasks]` table; an unknown key there is an error (it is ours alone)."""
    import tomllib

    path = root / "pyproject.toml"
    if not path.is_file():
        return Layer("pyproject.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} cannot be parsed: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    table = dict(data.get("tool", {}).get("dbtasks", {}))
    # `[tool.dbtasks.targets.*]` describes other databases (dbtasks.fleet parses it); it
    # is no setting of this one.
    table.pop("targets", None)
    for key in sorted(table):
        if key not in fields:
            raise ConfigError(
                f"[tool.dbtasks] has unknown key {key!r}{_did_you_mean(key, fields)}",
                "see docs/configuration.md for the keys",
            )
    return Layer("pyproject.toml", dict(table))


def read_dotenv(path: Path) -> dict[str, str]:
    """Values of a `.env` file taken literally; a missing file is fine, a bad line is not."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    with path.open(encoding="utf-8") as stream, _dotenv_parse_errors() as bad_lines:
        parsed = dotenv_values(stream=stream, interpolate=False)
    if bad_lines:
        # The line itself may hold a secret: name its number only.
        where = f" line {bad_lines[0]}" if bad_lines[0] else ""
        raise ConfigError(f"{path.name}{where} cannot be parsed (expected KEY=VALUE)")
    # A bare `KEY` (no `=`) parses to None: it sets nothing.
    return {key: value for key, value in parsed.items() if value is not None}


_DOTENV_LOCK = threading.Lock()


class _CollectLines(logging.Handler):
    """The line numbers of the warnings the creating thread logs; 0 for one naming none."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[int] = []
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._thread:
            found = re.search(r"\bline (\d+)", record.getMessage())
            self.lines.append(int(found.group(1)) if found else 0)


@contextmanager
def _dotenv_parse_errors() -> Iterator[list[int]]:
    """The lines python-dotenv could not parse inside the block.

    Its public `dotenv_values` reports an unparsable line only as a warning on the
    `dotenv.main` logger ("could not parse statement starting at line N") and goes on. A
    handler is attached to that logger for the block alone; meanwhile the logger is on at
    WARNING whatever the application configured, and does not propagate: the caller raises
    its own error rather than have the warning printed too.
    """
    logger = logging.getLogger("dotenv.main")
    collect = _CollectLines()
    with _DOTENV_LOCK:
        level, disabled, propagate = logger.level, logger.disabled, logger.propagate
        muted = logging.root.manager.disable  # what logging.disable() set
        logger.setLevel(logging.WARNING)
        logger.disabled, logger.propagate = False, False
        if muted >= logging.WARNING:
            logging.disable(logging.INFO)
        logger.addHandler(collect)
        try:
            yield collect.lines
        finally:
            logger.removeHandler(collect)
            logger.setLevel(level)
            logger.disabled, logger.propagate = disabled, propagate
            if muted >= logging.WARNING:
                logging.disable(muted)


def env_layer(
    name: str, raw: Mapping[str, str], by_env: Mapping[str, str], warnings: list[str]
) -> Layer:
    """Known variables of `raw` as fields; misspelt ones are reported in `warnings`.

    `.env` belongs to the project, so every unknown DB_* key (and a known key written in
    lower case) is reported; the real environment is shared with other tools, so only
    names close to one of ours are.
    """
    layer = Layer(name)
    for key, value in raw.items():
        if key in by_env:
            layer.values[by_env[key]] = value
        elif _looks_like_ours(key, by_env, strict=name == ".env"):
            warnings.append(
                f"{name} sets {key}, which dbtasks does not know; it is ignored"
                f"{_did_you_mean(key, by_env)}"
            )
    return layer


def _looks_like_ours(key: str, by_env: Mapping[str, str], strict: bool) -> bool:
    if key.upper() in by_env:  # db_host for DB_HOST
        return True
    if not key.upper().startswith("DB_"):
        # DBENV, DATABSE_URL: a near miss of ours in our own .env is a typo, not an app key.
        return strict and nearest(key, by_env, cutoff=0.85) is not None
    return strict or nearest(key, by_env) is not None


def layers(
    root: Path, environ: Mapping[str, str], flags: Mapping[str, Any], warnings: list[str]
) -> list[Layer]:
    """Every layer, lowest first."""
    return [
        Layer("default", {k.field: k.default for k in KEYS}),
        pyproject_layer(root, BY_FIELD),
        env_layer(".env", read_dotenv(root / ".env"), BY_ENV, warnings),
        env_layer("environment", environ, BY_ENV, warnings),
        Layer("flag", {f: v for f, v in flags.items() if v is not None}),
    ]


def choose(layers: list[Layer], warnings: list[str]) -> dict[str, tuple[str, Any]]:
    """For each field, the winning (layer name, raw value)."""
    chosen: dict[str, tuple[str, Any]] = {}
    for layer in layers:
        chosen.update({f: (layer.name, v) for f, v in layer.values.items()})
    top = next(
        (i for i in range(len(layers) - 1, 0, -1) if set(layers[i].values) & set(CONNECTION)),
        0,
    )
    url_layer = next(
        (i for i in range(len(layers) - 1, 0, -1) if layers[i].values.get("database_url")), 0
    )
    if url_layer and url_layer < top:
        beaten = sorted(set(layers[top].values) & set(CONNECTION))
        warnings.append(
            f"DATABASE_URL from {layers[url_layer].name} is ignored: "
            f"{BY_FIELD[beaten[0]].env} from {layers[top].name} takes precedence"
        )
        chosen["database_url"] = ("default", None)
    return chosen
