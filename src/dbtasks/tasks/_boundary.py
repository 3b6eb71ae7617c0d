"""Where library exceptions become exit codes: the only place that does.

Every message leaves through `target.redact` with the configured password, as defence in
depth: messages are built without secrets, but none may ever get through. Settings,
logging and the target rules load when a task runs, never during `inv --list`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.exceptions import Exit

from dbtasks.console import Console
from dbtasks.errors import DbTasksError, ExitCode, HealthError, StackError, first_line

if TYPE_CHECKING:
    from dbtasks.settings import Settings

logger = logging.getLogger("dbtasks.task")
# The directory Invoke loaded tasks.py from, for the running task.
tasks_dir: ContextVar[Path | None] = ContextVar("dbtasks_tasks_dir", default=None)


@dataclass
class Run:
    """What one command works with: its settings, built once, and its console."""

    console: Console
    flags: dict[str, Any]
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from dbtasks import log
            from dbtasks.settings import load_settings

            self._settings = load_settings(self.flags, root=project_root(), own_process=True)
            self.console.secrets = [self._settings.endpoint.password]
            log.setup(self._settings)
            log.event(logger, "task.start", "task started")
            log.event(logger, "settings", "settings loaded", sources=dict(self._settings.sources))
            for warning in self._settings.warnings:
                self.console.warn(warning)
                log.event(logger, "settings.warning", warning, logging.WARNING)
        return self._settings


TaskBody = Callable[..., None]


def project_root() -> Path | None:
    """The project a task works on: found from the working directory, as always, unless
    Invoke loaded tasks.py from outside it (`inv -r DIR`, with or without `-c NAME`):
    then from there, so the project's own pyproject.toml and alembic.ini are the ones
    read. None: the working directory's (`load_settings` looks)."""
    from dbtasks.settings.sources import find_project_root

    found = tasks_dir.get()
    if found is None:
        return None
    here = Path.cwd().resolve()
    return None if here == found or found in here.parents else find_project_root(found)


def _tasks_dir(context: Any) -> Path | None:
    prefix = getattr(getattr(context, "config", None), "_project_prefix", None)
    return Path(prefix).resolve() if isinstance(prefix, str) and prefix else None


def task(**kwargs: Any) -> Callable[[TaskBody], TaskBody]:
    """Invoke's `@task(...)`, which also names the running task (`db.upgrade`) for the
    log: the namespace comes from the module's NAMESPACE. No flag is given `-h`, so that
    `inv db.upgrade -h` stays a request for help, as in every other command line, nor a
    dash for its short form."""
    from invoke.tasks import Task
    from invoke.tasks import task as invoke_task

    class NoShortH(Task):  # type: ignore[type-arg]
        def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
            # "-": Invoke would take the dash of `create-missing` as a short flag ("--").
            opts: dict[str, Any] = super().arg_opts(name, default, {*taken_names, "h", "-"})
            return opts

    def wrap(body: TaskBody) -> TaskBody:
        namespace = body.__globals__.get("NAMESPACE")
        name = f"{namespace}.{body.__name__}" if namespace else body.__name__

        @functools.wraps(body)
        def named(*a: Any, **kw: Any) -> None:
            from dbtasks import log

            token = log.task_name.set(name)
            where = tasks_dir.set(_tasks_dir(a[0]) if a else None)
            try:
                body(*a, **kw)
            finally:
                tasks_dir.reset(where)
                log.task_name.reset(token)

        made: TaskBody = invoke_task(klass=NoShortH, **kwargs)(named)
        return made

    return wrap


@contextmanager
def command(json_mode: bool = False, **flags: Any) -> Iterator[Run]:
    """Run a task body; turn errors and Ctrl-C into a one-line message and an exit code."""
    from dbtasks import log

    run = Run(Console(json_mode=json_mode), flags)
    started = time.perf_counter()
    code = ExitCode.OK
    try:
        # The console keeps the real stdout; whatever the project's own code prints (a
        # revision's print(), env.py, a seed callable) goes to stderr, so that `--json`
        # and `--sql` stay readable by machines.
        with contextlib.redirect_stdout(sys.stderr):
            yield run
    except DbTasksError as exc:
        code = exc.exit_code
        raise _exit(run, _explained(run, exc).render(), code, exc) from None
    except KeyboardInterrupt as exc:
        code = ExitCode.INTERRUPTED
        raise _exit(run, "interrupted", code, exc) from None
    except Exception as exc:
        if not _from_driver(exc):
            code = ExitCode.FAILED
            raise
        # The database refused a statement, or the connection died mid-command: the
        # driver's words, on one line.
        error = StackError(f"the database reported an error: {first_line(exc)}")
        code = error.exit_code
        raise _exit(run, error.render(), code, exc) from None
    finally:
        if (health := sys.modules.get("dbtasks.health")) is not None:
            health.discard_spare()  # a probe's connection never outlives its command
        duration = round((time.perf_counter() - started) * 1000, 1)
        log.event(logger, "task.end", "task ended", exit_code=int(code), duration_ms=duration)
        log.teardown()


def _exit(run: Run, message: str, code: int, exc: BaseException) -> Exit:
    from dbtasks import log
    from dbtasks.console import printable
    from dbtasks.target import redact

    text = printable(redact(f"error: {message}", run.console.secrets))
    log.event(logger, "task.error", text, logging.ERROR, exit_code=int(code), exc_info=exc)
    return Exit(text, int(code))


def _explained(run: Run, exc: DbTasksError) -> DbTasksError:
    """A refused password, with what only the settings know: where it came from."""
    from dbtasks.health import AUTH_FAILED, auth_hint

    if isinstance(exc, HealthError) and exc.reason == AUTH_FAILED and run._settings:
        return HealthError(exc.message, exc.reason, auth_hint(run._settings))
    return exc


def _from_driver(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in ("psycopg2", "sqlalchemy")


def suggest_task_names() -> None:
    """`inv db.upgrad` names the task it probably meant. Invoke reports an unknown task
    name itself, before any task runs, so its parse step is wrapped (once per process):
    the message gains "did you mean ...?", and nothing else changes."""
    from invoke.exceptions import ParseError
    from invoke.program import Program

    parse: Any = Program.parse_tasks
    if getattr(parse, "_dbtasks", False):
        return

    def parse_tasks(self: Any) -> None:
        try:
            parse(self)
        except ParseError as exc:
            raise ParseError(_with_suggestion(str(exc), self.collection.task_names)) from None

    parse_tasks._dbtasks = True  # type: ignore[attr-defined]
    Program.parse_tasks = parse_tasks  # type: ignore[method-assign]


def quiet_closed_pipe() -> None:
    """`inv --help db.upgrade | head -1` ends quietly, as a task's own output does (the
    console): Invoke prints help and the task list itself, and a reader that goes away
    would otherwise give a BrokenPipeError traceback. Wrapped once per process."""
    from invoke.program import Program

    # Program.run is already running when tasks.py is imported: wrap the step after the
    # import that prints help and the task list.
    cleanup: Any = Program.parse_cleanup
    if getattr(cleanup, "_dbtasks", False):
        return

    def quiet_cleanup(self: Any) -> None:
        try:
            cleanup(self)
        except BrokenPipeError:
            # Python flushes stdout once more at exit: give it somewhere to go.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(0) from None

    quiet_cleanup._dbtasks = True  # type: ignore[attr-defined]
    Program.parse_cleanup = quiet_cleanup  # type: ignore[method-assign]


_freezes_at_exit = False


def skip_final_collections() -> None:
    """End the process without the interpreter's last garbage collections: with SQLAlchemy
    and Alembic loaded they cost ~55 ms after the work is done, a sixth of an everyday
    `db.upgrade`. Freezing what exists as the last atexit step leaves everything else as
    it was: the other atexit handlers, the flush of stdout and stderr, the exit code.
    What is left to free then is the process's memory, which the exit gives back."""
    import atexit
    import gc

    global _freezes_at_exit
    if not _freezes_at_exit:  # once per process, however often the tree is imported
        atexit.register(gc.freeze)
        _freezes_at_exit = True


def _with_suggestion(message: str, names: dict[str, list[str]]) -> str:
    import difflib
    import re

    unknown = re.fullmatch(r"No idea what '(.+)' is!", message)
    if unknown is None:
        return message
    known = [*names, *(alias for aliases in names.values() for alias in aliases)]
    close = difflib.get_close_matches(unknown.group(1), known, 1, 0.6)
    hint = f"did you mean {close[0]}?" if close else "see `inv --list`"
    return f"{message} ({hint})"
