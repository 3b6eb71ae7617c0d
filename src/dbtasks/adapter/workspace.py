"""One command's Alembic state: the Config, built once, and the revisions, loaded once."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dbtasks.adapter import bytecode
from dbtasks.adapter.errors import Files, loading, resolving
from dbtasks.errors import ConfigError
from dbtasks.migrations.graph import Graph, Revision
from dbtasks.migrations.graph_cache import FileState, Locations
from dbtasks.migrations.version_table import VersionTable, configured

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

    from dbtasks.settings import Settings

SETTINGS_KEY = "dbtasks.settings"
VERSION_KEY = "dbtasks.version_table"  # (schema, table) the runtime must use
CONNECTION_KEY = "connection"  # the key Alembic's cookbook uses for a shared connection
GRANT_KEY = "dbtasks.grant"  # what the connection given in CONNECTION_KEY may do
_CREATE_DATE = re.compile(r"Create Date:\s*(.+)")


def make_config(settings: Settings, output: TextIO | None = None) -> Config:
    """An Alembic Config from the project's ini file and/or `[tool.alembic]`, carrying the
    Settings.

    The URL is never written into the Config for our runtime: `%` in passwords breaks ini
    interpolation, and the runtime reads the Settings object instead.
    """
    from alembic.config import Config

    from dbtasks.adapter import config_files

    files = config_files.required(settings)
    # quiet: our console reports progress; Alembic's own "Generating ... done" would be noise.
    config = Config(
        str(files.ini) if files.ini else None,
        toml_file=str(files.toml) if files.toml else None,
        output_buffer=output,
        stdout=output or sys.stdout,
        # What `alembic` itself passes: env.py files read -x arguments through it.
        cmd_opts=argparse.Namespace(quiet=True, x=[]),
    )
    config.attributes[SETTINGS_KEY] = settings
    config.attributes[VERSION_KEY] = configured(settings)
    # For an env.py that reads the URL from the Config (the one `alembic init` writes).
    # Only in memory, and escaped: ini interpolation would break a password holding "%".
    url = settings.endpoint.sqlalchemy_url().render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def version_locations(script: ScriptDirectory) -> Locations:
    """Where revision files live, as Alembic reads them (path_separator, %(here)s, ...)."""
    from alembic.util import coerce_resource_to_filename

    configured = [Path(coerce_resource_to_filename(str(p))) for p in script.version_locations]
    folders = [p.absolute() for p in configured] or [Path(script.dir, "versions").absolute()]
    return Locations(tuple(folders), bool(script.recursive_version_locations))


@dataclass
class Workspace:
    """Built once per command and reused by every step of it."""

    settings: Settings
    config: Config
    script: ScriptDirectory
    files: Files
    graph: Graph
    state: FileState  # the revision files as read, for the graph cache

    @classmethod
    def open(
        cls,
        settings: Settings,
        output: TextIO | None = None,
        version: VersionTable | None = None,
        known: tuple[Graph, Locations] | None = None,
    ) -> Workspace:
        """The project's Alembic state. `known`, a valid graph cache's graph and file
        locations: each revision file is then imported only when first needed."""
        config = make_config(settings, output)
        if version is not None:
            config.attributes[VERSION_KEY] = version
        script = _script_directory(config)
        where = version_locations(script)
        files = Files(where.folders, settings.project_root)
        if known is not None and known[1] == where:
            from dbtasks.adapter import lazy_scripts

            graph = known[0]
            lazy_scripts.install(script, graph, files, settings.project_root)
            files.known = known_names(graph)
            return cls(settings, config, script, files, graph, FileState.known(known[1]))
        state = FileState.take(where)
        # Compiled before Alembic imports them, so each file is compiled once, not twice.
        bytecode.write_missing(settings.project_root, state.paths())
        with bytecode.reading(settings.project_root):
            graph = load_graph(script, files)
        return cls(settings, config, script, files, graph, state)

    def reload(self) -> None:
        """Re-read the revisions after a new file was written."""
        self.script = _script_directory(self.config)
        self.state = FileState.take(self.state.where)
        with bytecode.reading(self.settings.project_root):
            self.graph = load_graph(self.script, self.files)

    def relpath(self, path: str | Path) -> str:
        return self.files.rel(path)

    @property
    def script_dir(self) -> Path:
        """The folder holding env.py and the revision template (Alembic's script_location)."""
        return Path(self.script.dir)

    def module(self, revision: str) -> Any:
        """The imported revision module, for the markers a revision file may declare."""
        return module_of(self, revision)

    @property
    def version(self) -> VersionTable:
        found: VersionTable = self.config.attributes[VERSION_KEY]
        return found


def _script_directory(config: Config) -> ScriptDirectory:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config)
    except CommandError as exc:
        raise ConfigError(f"the Alembic configuration: {exc}") from None


def load_graph(script: ScriptDirectory, files: Files) -> Graph:
    """Import every revision file once and describe the history as plain data."""
    with loading(files):
        scripts = list(script.walk_revisions())
    with resolving(files):
        heads = tuple(script.get_heads())
        revisions = tuple(revision_of(s, _dependencies(script, s)) for s in scripts)
    graph = Graph(revisions, heads)
    files.known = known_names(graph)
    return graph


def known_names(graph: Graph) -> list[str]:
    """Every revision id and branch label, to suggest the one a typo meant."""
    return [r.id for r in graph.revisions] + [b for r in graph.revisions for b in r.branch_labels]


def _dependencies(directory: ScriptDirectory, script: Script) -> tuple[str, ...]:
    # depends_on may name branch labels: the graph keeps the revision ids they stand for.
    if not script.dependencies:
        return ()
    found = directory.revision_map.get_revisions(script.dependencies)
    return tuple(r.revision for r in found if r is not None and not isinstance(r, str))


def revision_of(script: Script, depends_on: tuple[str, ...] = ()) -> Revision:
    match = _CREATE_DATE.search(script.module.__doc__ or "")
    doc = (script.longdoc or script.doc or "").strip()
    return Revision(
        id=script.revision,
        # One line wherever it is shown (tables, progress); JSON carries the whole text.
        message=next((line.strip() for line in doc.splitlines() if line.strip()), ""),
        doc=doc,
        path=script.path,
        down=_tuple(script.down_revision),
        date=match.group(1).strip()[:19] if match else "",
        branch_point=script.is_branch_point,
        merge=script.is_merge_point,
        depends_on=depends_on,
        branch_labels=tuple(sorted(script.branch_labels)),
        declared_labels=tuple(script._orig_branch_labels or ()),
    )


def module_of(ws: Workspace, revision: str) -> Any:
    """The imported revision module, for the markers a revision file may declare."""
    script: Any = ws.script.revision_map.get_revision(revision)
    return script.module


def _tuple(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
