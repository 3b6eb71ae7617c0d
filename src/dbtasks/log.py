"""Structured logs of every task, for pipelines and for later; the console stays the human
channel and logging stays off the terminal unless asked for.

One logger tree: `dbtasks.*` and Alembic's own loggers, written to `DB_LOG_FILE` (appended)
as text or one JSON object per line. Every record passes through `target.redact` with the
configured password, message and fields alike, so no secret reaches a log. A record that
carries a traceback is written only at DEBUG. Nothing is set up (and nothing imported
beyond `logging`) until a task has loaded its settings with `DB_LOG_FILE` set.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from dbtasks.settings import Settings

ROOTS = ("dbtasks", "alembic")
# What the current task is and where it points, stamped on every record.
task_name: ContextVar[str | None] = ContextVar("dbtasks_task", default=None)
target: ContextVar[str | None] = ContextVar("dbtasks_target", default=None)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# A library's loggers stay silent unless configured: without this, Python's last-resort
# handler would print warnings and errors (tracebacks included) on the terminal.
logging.getLogger("dbtasks").addHandler(logging.NullHandler())


def event(
    logger: logging.Logger,
    name: str,
    message: str,
    level: int = logging.INFO,
    exc_info: BaseException | None = None,
    **fields: Any,
) -> None:
    """Log one event: `name` is its stable identifier, `fields` its structured data."""
    if logger.isEnabledFor(level):
        logger.log(level, message, exc_info=exc_info, extra={"event": name, **fields})


class _Redact(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        from dbtasks.target import redact

        record.msg = redact(record.getMessage(), self.secrets)
        record.args = ()
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        record.task = task_name.get()
        record.target = target.get()
        if record.exc_info and logging.getLogger("dbtasks").getEffectiveLevel() > logging.DEBUG:
            record.exc_info = None  # tracebacks only at DEBUG
            record.exc_text = None
        return True


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", record.name),
            "task": getattr(record, "task", None),
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps({k: v for k, v in data.items() if v is not None}, default=str)


_TEXT = "%(asctime)s %(levelname)s %(name)s [%(task)s] %(message)s"
_handler: logging.Handler | None = None


def setup(settings: Settings) -> None:
    """Route the logger tree to DB_LOG_FILE, if set; once per task (see `teardown`)."""
    global _handler
    target.set(settings.masked_url)
    if settings.log_file is None or _handler is not None:
        return
    handler = logging.StreamHandler(open_log(settings.log_file, settings))
    handler.addFilter(_Redact([settings.endpoint.password]))
    handler.setFormatter(_Json() if settings.log_format == "json" else logging.Formatter(_TEXT))
    _handler = handler
    attach(settings.log_level)


def teardown() -> None:
    """Detach and close the task's handler: the next task (in the same process, as in
    tests) sets up its own, or none."""
    global _handler
    if _handler is None:
        return
    for name in ROOTS:
        logging.getLogger(name).removeHandler(_handler)
    _handler.close()
    _handler = None


def open_log(path: Path, settings: Settings) -> TextIO:
    """DB_LOG_FILE opened to append: never through a link, a new file private (0600), and
    never inside a data directory (the server account could have planted the name)."""
    from dbtasks.errors import ConfigError

    real = Path(os.path.realpath(path))
    if real.is_relative_to(os.path.realpath(settings.data_dir)):
        raise ConfigError(
            f"DB_LOG_FILE={str(path)!r} is inside the data directory", "log somewhere else"
        )
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        why = "a symbolic link" if exc.errno == errno.ELOOP else (exc.strerror or "").lower()
        raise ConfigError(
            f"DB_LOG_FILE={str(path)!r} cannot be opened ({why})",
            "name a file in a folder that exists",
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (os.geteuid() == 0 and st.st_nlink != 1):
        os.close(fd)
        raise ConfigError(
            f"DB_LOG_FILE={str(path)!r} is not a plain file", "name a regular file to append to"
        )
    os.set_blocking(fd, True)
    return os.fdopen(fd, "a", encoding="utf-8")


def attach(level: str | None = None) -> None:
    """(Re)connect the logger tree to the handler: an env.py that runs `fileConfig`
    disables every logger it does not name, ours included."""
    if _handler is None:
        return
    for name in ROOTS:
        logger = logging.getLogger(name)
        logger.disabled = False
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        if level:
            logger.setLevel(level)
    for name, child in logging.Logger.manager.loggerDict.items():
        if isinstance(child, logging.Logger) and name.startswith(ROOTS):
            child.disabled = False
    if level and level != "DEBUG":
        # Alembic announces each plugin it sets up, several per task: detail, not events.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
