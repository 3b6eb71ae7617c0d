"""pg_dump of the schemas a history made, as SQL a revision can run in its transaction.

pg_dump runs through `dbtasks.shell.run` as an argument list. The password is never on its
command line: it goes into a private password file (a 0700 folder, a 0600 file, deleted
afterwards) named by PGPASSFILE, and every other `PG*` variable of the caller's
environment is left out, so that none of them can move the connection (PGHOSTADDR,
PGSERVICE, ...). The dump is then read with Postgres' own parser and made fit for a
revision: its session settings become transaction-local (`SET LOCAL`, `set_config(...,
true)`), so the revisions after the baseline run with the runtime's search_path, and the
schemas that exist before any revision are created only if missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dbtasks import shell
from dbtasks.errors import DbTasksError, last_line

if TYPE_CHECKING:
    from dbtasks.settings import Settings
    from dbtasks.target import Endpoint

ROWS_PER_INSERT = "1000"
# Lines pg_dump (15.14, 16.10, 17.6 and later) wraps its output in: psql meta-commands.
META = ("\\restrict ", "\\unrestrict ")
_UNSUPPORTED = 'invalid connection option "require_auth"'


def pg_dump(
    settings: Settings, endpoint: Endpoint, schemas: Iterable[str], skip: Iterable[str]
) -> str:
    """The schema and rows of `schemas` of the database `endpoint` names, without the
    tables named in `skip` (the version table, the timing history), owners left out."""
    selection = [f"--schema={_pattern(s)}" for s in schemas]
    selection += [f"--exclude-table={_pattern(s)}.{_pattern(t)}" for s in schemas for t in skip]
    options = ["--no-owner", "--inserts", f"--rows-per-insert={ROWS_PER_INSERT}"]
    return dump_with(settings, endpoint, [*options, *selection])


def dump_with(settings: Settings, endpoint: Endpoint, args: list[str]) -> str:
    """pg_dump's output with these arguments (DbTasksError with its last line if it fails)."""
    from dbtasks.stack.binaries import find_binaries

    program = find_binaries(settings.pg_bindir).tool("pg_dump")
    result = _dump(program, endpoint, args, require_auth=True)
    if result.returncode != 0 and _UNSUPPORTED in result.stderr:
        # This pg_dump's libpq (15 and older) cannot insist on SCRAM; the server is one
        # dbtasks just authenticated to with it.
        result = _dump(program, endpoint, args, require_auth=False)
    if result.returncode != 0:
        raise DbTasksError(f"pg_dump failed: {last_line(result.stderr)}")
    return result.stdout


def _dump(program: str, endpoint: Endpoint, args: list[str], require_auth: bool) -> shell.Completed:
    from dataclasses import replace

    if not require_auth:
        query = {k: v for k, v in endpoint.query.items() if k != "require_auth"}
        endpoint = replace(endpoint, query=query)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    with password_file(endpoint) as path:
        return shell.run(
            [program, f"--dbname={endpoint.conninfo()}", *args],
            env=environment,
            extra_env={"PGPASSFILE": str(path)},
        )


@contextlib.contextmanager
def password_file(endpoint: Endpoint) -> Iterator[Path]:
    """A libpq password file holding exactly this endpoint's password, readable by its
    owner only, removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="dbtasks-pgpass-"))  # mode 0700
    try:
        path = folder / "pgpass"
        fields = (endpoint.host, str(endpoint.port), "*", endpoint.user, endpoint.password)
        line = ":".join(_pgpass_field(f) for f in fields)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(line + "\n")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pgpass_field(value: str) -> str:
    return value if value == "*" else value.replace("\\", "\\\\").replace(":", "\\:")


def _pattern(name: str) -> str:
    """A name as a pg_dump pattern that matches exactly it (quoted: no wildcards)."""
    return '"' + name.replace('"', '""') + '"'


def revision_sql(dump: str, existing_schemas: Iterable[str]) -> list[str]:
    """The dump's statements, made fit to run inside a revision's transaction."""
    from dbtasks.sqltext import split_sql

    text = "\n".join(line for line in dump.splitlines() if not line.startswith(META))
    existing = set(existing_schemas)
    statements = []
    for statement in split_sql(text):
        fitted = fit(statement.sql, existing)
        if fitted is not None:
            statements.append(fitted)
    return statements


def fit(sql: str, existing: set[str]) -> str | None:
    """One statement as a revision may run it (None: leave it out)."""
    from pglast import ast, parse_sql

    node = parse_sql(sql)[0].stmt
    if isinstance(node, ast.VariableSetStmt) and not node.is_local:
        return "SET LOCAL " + sql[len("SET ") :]  # the parser says it starts with SET
    if isinstance(node, ast.SelectStmt) and "set_config" in sql and "search_path" in sql:
        return "SELECT pg_catalog.set_config('search_path', '', true)"
    if isinstance(node, ast.CreateSchemaStmt) and not node.if_not_exists:
        return "CREATE SCHEMA IF NOT EXISTS " + sql[len("CREATE SCHEMA ") :]
    if isinstance(node, ast.CommentStmt) and _on_existing_schema(node, existing):
        return None  # its comment is whatever the server gave it ("standard public schema")
    return sql


def _on_existing_schema(node: object, existing: set[str]) -> bool:
    from pglast import ast, enums

    if not isinstance(node, ast.CommentStmt) or node.objtype != enums.ObjectType.OBJECT_SCHEMA:
        return False
    name = getattr(node.object, "sval", None)
    return name in existing
