"""What `alembic/env.py` hands control to: configure Alembic for one schema and run.

It uses the connection (or Engine) dbtasks or a test suite passes in
`config.attributes["connection"]` (Alembic's cookbook pattern), or opens one from the
Settings when the plain `alembic` command runs env.py directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dbtasks.adapter.workspace import CONNECTION_KEY, GRANT_KEY, SETTINGS_KEY, VERSION_KEY
from dbtasks.errors import ConfigError
from dbtasks.migrations.journal import TABLE as JOURNAL_TABLE
from dbtasks.migrations.version_table import VersionTable, configured

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

    from dbtasks.grants import Grant
    from dbtasks.settings import Settings


def run_migrations() -> None:
    """The body of env.py."""
    from alembic import context

    config = context.config
    settings: Settings | None = config.attributes.get(SETTINGS_KEY)
    if settings is None:
        from dbtasks.settings import load_settings

        settings = load_settings()
    version = config.attributes.get(VERSION_KEY) or configured(settings)
    options = alembic_options(settings, version)
    if context.is_offline_mode():
        _run_offline(context, settings, options)
        return
    granted: Grant | None = config.attributes.get(GRANT_KEY)
    given = config.attributes.get(CONNECTION_KEY)
    if given is not None and hasattr(given, "connect") and not hasattr(given, "execute"):
        with given.connect() as connection:  # an Engine: open a connection of our own
            _run_online(context, connection, settings, options, granted)
        return
    if given is not None:
        _run_online(context, given, settings, options, granted)
        return
    from dbtasks.pg import engine

    with engine(settings.endpoint).connect() as connection:
        _run_online(context, connection, settings, options, granted)


def _own_grant(settings: Settings, connection: Connection, destroy: bool = False) -> Grant:
    """dbtasks' runner hands over its grant; the plain `alembic` command, or a test suite
    driving env.py with a connection of its own, gets one from the guard for the database
    actually connected to: under the rules of an upgrade, or of a downgrade."""
    from dataclasses import replace

    from dbtasks import guard
    from dbtasks.grants import server_of

    host, port, database = server_of(connection)
    endpoint = replace(settings.endpoint, host=host, port=port, database=database)
    on = replace(settings, endpoint=endpoint)
    if destroy:
        return guard.grant(on, guard.Intent.DESTROY, "undo or stamp revisions")
    return guard.grant(on, guard.Intent.MIGRATE, "run migrations")


def _guard_steps(context: Any, settings: Settings, connection: Connection) -> None:
    """Without dbtasks' runner (plain `alembic downgrade`, `alembic stamp`), the steps are
    known only once Alembic has computed them: undoing or stamping history asks the guard
    for DESTROY first, as `db.downgrade` and `db.stamp` do."""
    from alembic.runtime.migration import StampStep

    migration = context.get_context()
    computed = migration._migrations_fn  # Alembic's step function for this command

    def checked(heads: Any, ctx: Any) -> Any:
        steps = list(computed(heads, ctx))
        if any(isinstance(s, StampStep) or not s.is_upgrade for s in steps):
            _own_grant(settings, connection, destroy=True)
        return steps

    migration._migrations_fn = checked


def alembic_options(settings: Settings, version: VersionTable) -> dict[str, Any]:
    """`context.configure` options: one schema, strict comparison, a transaction per revision."""
    return {
        # Also when revisions run, as in Alembic's own env.py: its naming convention names
        # the constraints a revision leaves unnamed.
        "target_metadata": load_metadata(settings) if settings.metadata else None,
        "version_table": version.table,
        "version_table_schema": version.schema,
        # Only the connection's default schema (DB_SCHEMA, via search_path) is reflected;
        # auth, storage, extensions and every other schema are never compared.
        "include_schemas": False,
        "include_name": include_name(version.table),
        "include_object": include_object,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": True,
    }


def include_name(version_table: str) -> Callable[[str | None, str, dict[str, Any]], bool]:
    """The version table and the timing history live in our schema but are not the
    models': autogenerate never proposes to drop them."""
    ours = (version_table, JOURNAL_TABLE)

    def include(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        return not (type_ == "table" and name in ours)

    return include


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Tables the models declare in another schema (e.g. a stub of auth.users that a
    # foreign key points to) belong to someone else: never create or drop them.
    return not (type_ == "table" and getattr(obj, "schema", None) is not None)


def load_metadata(settings: Settings) -> MetaData:
    """Import `DB_METADATA` ("package.module:attr.path"); the library never names a project."""
    from sqlalchemy import MetaData

    from dbtasks import project_code

    spec = settings.metadata or ""
    target = project_code.load(
        spec,
        "DB_METADATA",
        settings.project_root,
        "fix the models module or DB_METADATA (the revisions are not at fault)",
    )
    if not isinstance(target, MetaData):
        raise ConfigError(f"DB_METADATA={spec!r} is a {type(target).__name__}, not a MetaData")
    return target


def search_path_sql(connection_or_dialect: Any, schema: str) -> tuple[str, str]:
    """CREATE SCHEMA and SET search_path statements with the schema quoted properly."""
    dialect = getattr(connection_or_dialect, "dialect", connection_or_dialect)
    quoted = dialect.identifier_preparer.quote_schema(schema)
    # Only DB_SCHEMA: reflection of the default schema lists every table *visible* on the
    # search path, so adding `public` would make autogenerate propose dropping its tables.
    return (f"CREATE SCHEMA IF NOT EXISTS {quoted}", f"SET search_path TO {quoted}")


def prepare_connection(connection: Connection, settings: Settings, grant: Grant) -> None:
    """Create DB_SCHEMA if missing and make it the default; a Supabase project's database
    gets the baseline first and also sees `extensions`, as on Supabase. Committed, so that
    Alembic sees no open transaction and runs each revision in a transaction of its own."""
    from psycopg2 import sql

    from dbtasks import baseline, pg
    from dbtasks.guard import Intent

    grant.require(Intent.MIGRATE, connection)
    path = sql.SQL(", ").join(map(sql.Identifier, baseline.search_path(settings)))
    schema = sql.Identifier(settings.schema)
    connection.commit()
    # Composed for the driver: a ":" or "%" in the name is never read as a placeholder.
    # Committed on the driver's connection, or a first revision's rollback would undo it.
    with pg.driver_cursor(connection) as cur:
        if baseline.wanted(settings):  # a Supabase project's database has it before anything
            baseline.install(cur, grant)
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        cur.execute(sql.SQL("SET search_path TO {}").format(path))
        cur.connection.commit()


def _run_online(
    context: Any,
    connection: Connection,
    settings: Settings,
    options: dict[str, Any],
    grant: Grant | None,
) -> None:
    prepare_connection(connection, settings, grant or _own_grant(settings, connection))
    context.configure(connection=connection, **options)
    if grant is None:
        _guard_steps(context, settings, connection)
    with context.begin_transaction():
        context.run_migrations()


def _run_offline(context: Any, settings: Settings, options: dict[str, Any]) -> None:
    from sqlalchemy.dialects import postgresql

    context.configure(
        dialect_name="postgresql",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **options,
    )
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for statement in search_path_sql(dialect, settings.schema):
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()
