"""What `alembic/env.py` hands control to: configure Alembic for one schema and run.

It uses the connection dbtasks passes in `config.attributes` (Alembic's cookbook pattern),
or opens one from Settings when the `alembic` command runs env.py directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dbtasks.migrations.config import CONNECTION_KEY, HOOKS_KEY, SETTINGS_KEY, load_metadata
from dbtasks.migrations.enums import add_enum_statements

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from dbtasks.settings import Settings

VERSION_TABLE = "alembic_version"


def run_migrations() -> None:
    """The body of env.py."""
    from alembic import context

    config = context.config
    settings: Settings | None = config.attributes.get(SETTINGS_KEY)
    if settings is None:
        from dbtasks.settings import load_settings

        settings = load_settings()
    hooks: dict[str, Any] = config.attributes.get(HOOKS_KEY, {})
    options = alembic_options(settings, hooks, getattr(config.cmd_opts, "autogenerate", False))
    if context.is_offline_mode():
        _run_offline(context, settings, options)
        return
    connection = config.attributes.get(CONNECTION_KEY)
    if connection is not None:
        _run_online(context, connection, settings.schema, options)
        return
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(settings.endpoint.sqlalchemy_url(), poolclass=NullPool)
    with engine.connect() as connection:
        _run_online(context, connection, settings.schema, options)


def alembic_options(settings: Settings, hooks: dict[str, Any], cli_autogen: bool) -> dict[str, Any]:
    """`context.configure` options: one schema, strict comparison, a transaction per revision."""
    options: dict[str, Any] = {
        "target_metadata": load_metadata(settings),
        "version_table": VERSION_TABLE,
        "version_table_schema": settings.schema,
        # Only the connection's default schema (DB_SCHEMA, via search_path) is reflected;
        # auth, storage, extensions and every other schema are never compared.
        "include_schemas": False,
        "include_name": include_name,
        "include_object": include_object,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": True,
        "process_revision_directives": refuse_empty(hooks, cli_autogen),
    }
    if "on_step" in hooks:
        options["on_version_apply"] = [hooks["on_step"]]
    return options


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    # The version table is reflected in our schema but is Alembic's, not the models'.
    return not (type_ == "table" and name == VERSION_TABLE)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Tables the models declare in another schema (e.g. a stub of auth.users that a
    # foreign key points to) belong to someone else: never create or drop them.
    return not (type_ == "table" and getattr(obj, "schema", None) is not None)


def refuse_empty(hooks: dict[str, Any], cli_autogen: bool) -> Callable[..., None]:
    """Autogenerate that finds no change writes no file; record what it found for the task."""

    def process(context: Any, revision: Any, directives: list[Any]) -> None:
        if not (hooks.get("autogenerate") or cli_autogen) or not directives:
            return
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            return
        add_enum_statements(context, script)
        hooks["upgrade_ops"] = script.upgrade_ops

    return process


def search_path_sql(connection_or_dialect: Any, schema: str) -> tuple[str, str]:
    """CREATE SCHEMA and SET search_path statements with the schema quoted properly."""
    dialect = getattr(connection_or_dialect, "dialect", connection_or_dialect)
    quoted = dialect.identifier_preparer.quote_schema(schema)
    # Only DB_SCHEMA: reflection of the default schema lists every table *visible* on the
    # search path, so adding `public` would make autogenerate propose dropping its tables.
    return (f"CREATE SCHEMA IF NOT EXISTS {quoted}", f"SET search_path TO {quoted}")


def prepare_connection(connection: Connection, schema: str) -> None:
    """Create the schema if missing and make it the default; committed, so that Alembic
    sees no open transaction and runs each revision in a transaction of its own."""
    from sqlalchemy import text

    for statement in search_path_sql(connection, schema):
        connection.execute(text(statement))
    connection.commit()


def _run_online(context: Any, connection: Connection, schema: str, options: dict[str, Any]) -> None:
    prepare_connection(connection, schema)
    context.configure(connection=connection, **options)
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
