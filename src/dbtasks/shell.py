"""The one seam through which dbtasks runs other programs.

Commands are argument lists, never shell strings, so nothing needs quoting and tests can
see exactly what would run.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Mapping, Sequence

from dbtasks.errors import StackError


def run(
    args: Sequence[str],
    *,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `args`, optionally as another (unprivileged) user; output is captured as text."""
    full_env = dict(os.environ if env is None else env)
    kwargs: dict[str, object] = {}
    if user is not None and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        full_env.update(HOME=entry.pw_dir or "/", USER=user, LOGNAME=user)
    try:
        result: subprocess.CompletedProcess[str] = subprocess.run(
            list(args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=full_env,
            check=False,
            cwd="/",  # the unprivileged user may not be able to enter the caller's directory
            **kwargs,  # type: ignore[call-overload]
        )
        return result
    except FileNotFoundError:
        raise StackError(f"cannot run {args[0]}: not found") from None
