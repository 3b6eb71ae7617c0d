"""The one place an Alembic `Config` is built, and where the models' MetaData is found."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any, TextIO

from dbtasks.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection, MetaData

    from dbtasks.settings import Settings

SETTINGS_KEY = "dbtasks.settings"
CONNECTION_KEY = "connection"  # the key Alembic's cookbook uses for a shared connection
HOOKS_KEY = "dbtasks.hooks"


def make_config(
    settings: Settings,
    connection: Connection | None = None,
    output: TextIO | None = None,
    hooks: dict[str, Any] | None = None,
) -> Config:
    """An Alembic Config from the project's alembic.ini, with Settings and a connection.

    The URL is never written into the Config: `%` in passwords breaks ini interpolation,
    and the runtime reads the Settings object instead.
    """
    from alembic.config import Config

    ini = settings.project_root / "alembic.ini"
    if not ini.is_file():
        raise ConfigError(
            f"no alembic.ini in {settings.project_root}",
            "see docs/adopting.md to set up Alembic for dbtasks",
        )
    # quiet: our console reports progress; Alembic's own "Generating ... done" would be noise.
    config = Config(
        str(ini),
        output_buffer=output,
        stdout=output or sys.stdout,
        cmd_opts=argparse.Namespace(quiet=True),
    )
    config.attributes[SETTINGS_KEY] = settings
    config.attributes[HOOKS_KEY] = {} if hooks is None else hooks
    if connection is not None:
        config.attributes[CONNECTION_KEY] = connection
    return config


def script_directory(config: Config) -> ScriptDirectory:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config)
    except CommandError as exc:
        raise ConfigError(f"alembic.ini: {exc}") from None


def load_metadata(settings: Settings) -> MetaData:
    """Import `DB_METADATA` ("package.module:attr.path"); the library never names a project."""
    from sqlalchemy import MetaData

    spec = settings.metadata
    if not spec or ":" not in spec:
        raise ConfigError(
            f"DB_METADATA={spec!r} must look like 'package.models:Base.metadata'",
            'set it in [tool.dbtasks] as metadata = "..."',
        )
    module_name, _, attr_path = spec.partition(":")
    root = str(settings.project_root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"DB_METADATA={spec!r} cannot be loaded: {exc}") from None
    if not isinstance(target, MetaData):
        raise ConfigError(f"DB_METADATA={spec!r} is a {type(target).__name__}, not a MetaData")
    return target
