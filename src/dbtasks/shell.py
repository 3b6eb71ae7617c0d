"""The one seam through which dbtasks runs other programs.

Commands are argument lists, never shell strings, so nothing needs quoting and tests can
see exactly what would run.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from dbtasks.errors import StackError

Completed: TypeAlias = subprocess.CompletedProcess[str]


class ProgramNotFound(StackError):
    """The program to run is not installed, or not on PATH: callers that can say what to
    install catch this one, the others let its message stand."""

    def __init__(self, program: str) -> None:
        super().__init__(f"cannot run {program}: not found")
        self.program = program


def run(
    args: Sequence[str],
    *,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Completed:
    """Run `args`, optionally as another (unprivileged) user; output is captured as text.

    Without `env` the program inherits the caller's environment. With it, `env` is all it
    gets, plus HOME, USER and LOGNAME of the account it runs as. `extra_env` comes on top
    of either: how a secret reaches a program without appearing on its command line.
    """
    try:
        result: Completed = subprocess.run(
            list(args),
            capture_output=True,
            check=False,
            **_spawn(user, env, extra_env),  # type: ignore[call-overload]
        )
        return result
    except FileNotFoundError:
        raise ProgramNotFound(args[0]) from None


def start(
    args: Sequence[str], *, user: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `args` as `run` runs them, without waiting for the end, in a session of their
    own (a Ctrl-C at the terminal reaches only the caller, which decides what the program
    gets): for a program whose work is done, for the caller, before the program itself
    is (see `cluster.started`)."""
    try:
        process: subprocess.Popen[str] = subprocess.Popen(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **_spawn(user, env, None),  # type: ignore[call-overload]
        )
        return process
    except FileNotFoundError:
        raise ProgramNotFound(args[0]) from None


def _spawn(
    user: str | None, env: Mapping[str, str] | None, extra_env: Mapping[str, str] | None
) -> dict[str, object]:
    """What every program gets: no stdin, text output, its environment and account."""
    account = pwd.getpwnam(user) if user is not None and os.geteuid() == 0 else None
    kwargs: dict[str, object] = {
        "stdin": subprocess.DEVNULL,
        "text": True,
        "env": {**_environment(env, account), **(extra_env or {})},
        "cwd": "/",  # the unprivileged user may not be able to enter the caller's directory
    }
    if account is not None:
        kwargs.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    return kwargs


def _environment(
    env: Mapping[str, str] | None, account: pwd.struct_passwd | None
) -> dict[str, str]:
    full = dict(os.environ if env is None else env)
    if env is None and account is None:
        return full
    try:
        who = account or pwd.getpwuid(os.geteuid())
    except KeyError:  # an account without a passwd entry (some containers): keep what we have
        return full
    full.update(HOME=who.pw_dir or "/", USER=who.pw_name, LOGNAME=who.pw_name)
    return full
