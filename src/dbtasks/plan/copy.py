"""`db.plan --copy-schema`: the clone made from the target's own schema, not its history.

A replayed history is the schema the revision files say the target has; a copy is the one
it has, hand-made indexes and columns included, and costs one pg_dump however long the
history. pg_dump reads the target in a read-only transaction, and takes ACCESS SHARE on
each table it dumps (it conflicts only with ACCESS EXCLUSIVE); `--lock-wait-timeout` makes
it give up after a second rather than queue behind a migration. Owners and grants are left
out (the clone's server has none of the target's roles). The dump is loaded in one
transaction with the version table's rows, so a copy that does not load (an extension
or a type from a schema it did not dump) leaves the clone empty, and the plan replays the
history instead, saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtasks.errors import DbTasksError, first_line, last_line

if TYPE_CHECKING:
    from dbtasks.validate.scratch import Scratch
    from dbtasks.workflow import Work

OPTIONS = ("--schema-only", "--no-owner", "--no-privileges", "--lock-wait-timeout=1000")


class CopyFailed(DbTasksError):
    """The copy could not be dumped or loaded: the plan replays the history instead."""


def dump(work: Work) -> list[str]:
    """The target's DB_SCHEMA (and the version table's schema), as statements that load in
    one transaction."""
    from dbtasks.squash.dump import dump_with, revision_sql

    settings = work.settings
    schemas = sorted({settings.schema, work.version.schema})
    args = [*OPTIONS, *(f"--schema={_pattern(s)}" for s in schemas)]
    try:
        text = dump_with(settings, settings.endpoint, args)
    except DbTasksError as exc:
        raise CopyFailed(f"{exc} (the target's)") from None
    try:
        return revision_sql(text, ())
    except Exception as exc:  # pglast's parser on an unusual dump: one line, then replay
        raise CopyFailed(f"the dump could not be read: {last_line(str(exc))}") from None


def load(work: Work, scratch: Scratch, statements: list[str], current: tuple[str, ...]) -> None:
    """The copy and the target's current revisions into the scratch database, in one
    transaction: MIGRATE there, under the clone's grant."""
    import psycopg2
    from psycopg2 import sql

    from dbtasks import pg
    from dbtasks.guard import Intent

    table = sql.Identifier(work.version.schema, work.version.table)
    insert = sql.SQL("INSERT INTO {} (version_num) VALUES (%s)").format(table)
    conn = pg.connect(scratch.settings.endpoint, application="dbtasks plan")
    try:
        with conn.cursor() as cur:
            scratch.grant.require(Intent.MIGRATE, cur)
            try:
                for statement in statements:
                    cur.execute(statement)
                for revision in current:  # a schema-only dump has the table, not its rows
                    cur.execute(insert, (revision,))
            except psycopg2.Error as exc:
                conn.rollback()
                raise CopyFailed(f"the copy did not load: {first_line(exc)}") from None
        conn.commit()
    finally:
        conn.close()


def _pattern(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
