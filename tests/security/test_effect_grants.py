"""Effects ask for their grant: every primitive that changes a database, a data directory or
a revision folder refuses (exit 4) a grant that does not cover it, and changes nothing.

The walk names every such primitive once. For each it tries a grant of a weaker intent on
the right target, the right intent on another database, and the right intent on another
server, and checks that nothing happened; then the right grant, which must work. A
primitive added to the library without an entry here fails
`test_every_primitive_that_takes_a_grant_is_walked`.
"""

from __future__ import annotations

import ast
import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from dbtasks import baseline, guard, pg, snapshot
from dbtasks.adapter import autogen, run
from dbtasks.adapter.runtime import prepare_connection
from dbtasks.adapter.workspace import Workspace
from dbtasks.errors import Refused
from dbtasks.grants import Grant
from dbtasks.guard import Intent
from dbtasks.migrations import journal
from dbtasks.seeds import apply_seeds
from dbtasks.settings import Settings
from dbtasks.stack import cluster as cluster_files
from dbtasks.stack.compose import ComposeStack
from dbtasks.stack.native import NativeStack
from tests.projects import ScratchProject, make_project, write_chain
from tests.support import REPO

pytestmark = pytest.mark.integration

WEAKER = {Intent.MIGRATE: Intent.READ, Intent.WRITE: Intent.MIGRATE, Intent.DESTROY: Intent.WRITE}


@dataclass
class Place:
    """A project on a database of its own on the session cluster."""

    project: ScratchProject
    settings: Settings
    ws: Workspace
    admin: Any  # autocommit, on the maintenance database
    new: str  # a database name nobody uses yet

    @property
    def database(self) -> str:
        return self.settings.endpoint.database

    def grant(
        self,
        intent: Intent,
        database: str | None = None,
        port: int | None = None,
        server: bool = False,
    ) -> Grant:
        ep = self.settings.endpoint
        endpoint = replace(ep, database=database or ep.database, port=port or ep.port)
        return guard.grant(
            replace(self.settings, endpoint=endpoint), intent, "test", whole_server=server
        )

    def query(self, sql: str) -> Any:
        conn = psycopg2.connect(**self.settings.endpoint.connect_kwargs())
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone()[0] if cur.description else None
        finally:
            conn.close()

    def session(self) -> Any:
        return pg.session(self.settings.endpoint)


@pytest.fixture
def place(tmp_path: Path, cluster: Settings) -> Iterator[Place]:
    project = make_project(tmp_path, cluster)
    write_chain(project.versions, 2)
    (project.root / "seeds").mkdir()
    (project.root / "seeds" / "001.sql").write_text("CREATE TABLE public.seeded (id int);\n")
    settings = project.settings(DB_SEEDS="seeds/*.sql")
    everything = guard.stack(settings, Intent.DESTROY, "set up the walk")
    new = f"walk_{uuid.uuid4().hex[:12]}"
    with pg.maintenance(settings.endpoint) as admin:
        pg.create_database(admin, settings.endpoint.database, everything)
        ws = Workspace.open(settings, output=io.StringIO())
        try:
            yield Place(project, settings, ws, admin, new)
        finally:
            for name in (settings.endpoint.database, new):
                pg.drop_database(admin, name, everything)


# -- the primitives: each acts, and says whether its effect happened ------------------------


def _migrate_up(p: Place, g: Grant) -> None:
    with pg.engine(p.settings.endpoint).connect() as conn:
        plan = p.ws.graph.pending(())
        run.migrate(p.ws, conn, "heads", plan, lambda step: None, g, True)


def _migrate_down(p: Place, g: Grant) -> None:
    with pg.engine(p.settings.endpoint).connect() as conn:
        plan = list(reversed(p.ws.graph.pending(())))
        run.migrate(p.ws, conn, "base", plan, lambda step: None, g, False)


def _applied(p: Place) -> int:
    return int(p.query("SELECT count(*) FROM pg_tables WHERE tablename LIKE 't0%'"))


def _stamp(p: Place, g: Grant) -> None:
    with pg.engine(p.settings.endpoint).connect() as conn:
        run.stamp(p.ws, conn, "heads", False, g)


def _prepare(p: Place, g: Grant) -> None:
    with pg.engine(p.settings.endpoint).connect() as conn:
        prepare_connection(conn, replace(p.settings, schema="prepared"), g)


def _seed(p: Place, g: Grant) -> None:
    with pg.engine(p.settings.endpoint).connect() as conn:
        apply_seeds(p.settings, conn, g)


def _row() -> dict[str, Any]:
    return journal.row("r001", True, datetime.now(UTC), 0.1, "failed", None)


def _record(p: Place, g: Grant) -> None:
    with p.session() as cur:
        journal.record(cur, "app", _row(), g)


def _drop_schema(p: Place, g: Grant) -> None:
    with p.session() as cur:
        pg.drop_schema(cur, "doomed", g)


def _drop_table(p: Place, g: Grant) -> None:
    with p.session() as cur:
        pg.drop_table(cur, "doomed", "kept", g)


def _restore(p: Place, g: Grant) -> None:
    snapshot.restore(p.admin, snapshot.Snapshot(p.new, ()), p.database, g)


def _ensure_database(p: Place, g: Grant) -> None:
    endpoint = replace(p.settings.endpoint, database=p.new)
    cluster_files.ensure_database(endpoint, 10, g)


def _install_baseline(p: Place, g: Grant) -> None:
    with pg.session(p.settings.endpoint) as cur:
        baseline.install(cur, g)


def _exists(p: Place, name: str) -> bool:
    return pg.database_exists(p.admin, name)


def _with_doomed(p: Place) -> None:
    p.query("CREATE SCHEMA doomed; CREATE TABLE doomed.kept (id int)")


def _with_journal(p: Place) -> None:
    with p.session() as cur:
        journal.ensure(cur, "app", p.grant(Intent.MIGRATE))


def _with_applied(p: Place) -> None:
    _migrate_up(p, p.grant(Intent.MIGRATE))


def _with_applied_and_a_source(p: Place) -> None:
    """The project's database migrated; an empty one to restore from."""
    _with_applied(p)
    pg.create_database(p.admin, p.new, p.grant(Intent.MIGRATE, database=p.new))


@dataclass(frozen=True)
class Primitive:
    name: str
    intent: Intent
    act: Callable[[Place, Grant], Any]
    happened: Callable[[Place], bool]
    setup: Callable[[Place], None] = lambda p: None
    on_new: bool = False  # it acts on the database `new`, not the project's


PRIMITIVES = [
    Primitive(
        "pg.create_database",
        Intent.MIGRATE,
        lambda p, g: pg.create_database(p.admin, p.new, g),
        lambda p: _exists(p, p.new),
        on_new=True,
    ),
    Primitive(
        "pg.create_database_if_missing",
        Intent.MIGRATE,
        lambda p, g: pg.create_database_if_missing(p.admin, p.new, g),
        lambda p: _exists(p, p.new),
        on_new=True,
    ),
    Primitive(
        "pg.drop_database",
        Intent.DESTROY,
        lambda p, g: pg.drop_database(p.admin, p.database, g),
        lambda p: not _exists(p, p.database),
    ),
    Primitive(
        "pg.drop_schema",
        Intent.DESTROY,
        _drop_schema,
        lambda p: p.query("SELECT to_regnamespace('doomed')") is None,
        _with_doomed,
    ),
    Primitive(
        "pg.drop_table",
        Intent.DESTROY,
        _drop_table,
        lambda p: p.query("SELECT to_regclass('doomed.kept')") is None,
        _with_doomed,
    ),
    Primitive("run.migrate (upgrade)", Intent.MIGRATE, _migrate_up, lambda p: _applied(p) == 2),
    Primitive(
        "run.migrate (downgrade)",
        Intent.DESTROY,
        _migrate_down,
        lambda p: _applied(p) == 0,
        _with_applied,
    ),
    Primitive(
        "run.stamp",
        Intent.DESTROY,
        _stamp,
        lambda p: p.query("SELECT to_regclass('app.alembic_version')") is not None,
    ),
    Primitive(
        "runtime.prepare_connection",
        Intent.MIGRATE,
        _prepare,
        lambda p: p.query("SELECT to_regnamespace('prepared')") is not None,
    ),
    Primitive(
        "seeds.apply_seeds",
        Intent.WRITE,
        _seed,
        lambda p: p.query("SELECT to_regclass('public.seeded')") is not None,
    ),
    Primitive(
        "journal.ensure",
        Intent.MIGRATE,
        lambda p, g: journal.ensure(_cursor(p), "app", g),
        lambda p: p.query(f"SELECT to_regclass('app.{journal.TABLE}')") is not None,
    ),
    Primitive(
        "journal.record",
        Intent.MIGRATE,
        _record,
        lambda p: p.query(f"SELECT count(*) FROM app.{journal.TABLE}") == 1,
        _with_journal,
    ),
    Primitive(
        "snapshot.restore",
        Intent.DESTROY,
        _restore,
        lambda p: (
            p.query("SELECT to_regclass('app.alembic_version')") is None and _exists(p, p.database)
        ),
        _with_applied_and_a_source,
    ),
    Primitive(
        "baseline.install",
        Intent.MIGRATE,
        _install_baseline,
        lambda p: p.query("SELECT to_regprocedure('auth.jwt()')") is not None,
    ),
    Primitive(
        "cluster.ensure_database",
        Intent.MIGRATE,
        _ensure_database,
        lambda p: _exists(p, p.new),
        on_new=True,
    ),
]


def _cursor(p: Place) -> Any:
    conn = psycopg2.connect(**p.settings.endpoint.connect_kwargs())
    conn.autocommit = True
    return conn.cursor()


@pytest.mark.parametrize("primitive", PRIMITIVES, ids=lambda p: p.name)
def test_a_primitive_refuses_every_grant_that_does_not_cover_it(
    place: Place, primitive: Primitive
) -> None:
    primitive.setup(place)
    target = place.new if primitive.on_new else place.database
    wrong = {
        "a weaker intent": place.grant(WEAKER[primitive.intent], database=target),
        "another database": place.grant(primitive.intent, database=f"other_{uuid.uuid4().hex[:6]}"),
        "another server": place.grant(primitive.intent, database=target, port=1),
    }
    for why, grant in wrong.items():
        with pytest.raises(Refused) as info:
            primitive.act(place, grant)
        assert info.value.exit_code == 4 and "refusing to" in info.value.message, why
        assert not primitive.happened(place), f"{primitive.name} acted with {why}"
    primitive.act(place, place.grant(primitive.intent, database=target))
    assert primitive.happened(place)


@pytest.mark.parametrize(
    ("name", "intent", "act"),
    [
        ("NativeStack.destroy", Intent.DESTROY, lambda p, g: _native_destroy(p, g)),
        ("ComposeStack.destroy", Intent.DESTROY, lambda p, g: ComposeStack(p.settings).destroy(g)),
    ],
)
def test_the_stacks_own_effects_need_the_whole_server(
    place: Place, name: str, intent: Intent, act: Callable[[Place, Grant], Any]
) -> None:
    """Destroying a stack acts on every database of the server: a grant for one
    database, or for a weaker intent, or for another server, does not cover them."""
    for grant in (
        place.grant(intent),
        place.grant(WEAKER[intent], server=True),
        place.grant(intent, port=1, server=True),
    ):
        with pytest.raises(Refused):
            act(place, grant)
    if name != "ComposeStack.destroy":  # the compose stack needs an engine to go further
        act(place, place.grant(intent, server=True))


def _native_destroy(p: Place, g: Grant) -> None:
    data = p.project.root / "empty-data-dir"
    data.mkdir(exist_ok=True)
    NativeStack(replace(p.settings, data_dir=data)).destroy(g)
    assert not data.exists()


def test_a_schema_grant_covers_only_its_schemas(place: Place) -> None:
    _with_doomed(place)
    only_app = guard.grant(place.settings, Intent.DESTROY, "test", schemas=("app",))
    with pytest.raises(Refused):
        _drop_schema(place, only_app)
    with pytest.raises(Refused):
        _drop_table(place, only_app)
    assert place.query("SELECT to_regclass('doomed.kept')") is not None


def test_a_scratch_space_never_covers_the_configured_or_a_template_database(
    place: Place,
) -> None:
    space = guard.scratch_space(place.settings, "test")
    for reserved in (place.database, "postgres", "template0", "template1"):
        with pytest.raises(Refused):
            space.grant(reserved)
    other = replace(place.settings, endpoint=replace(place.settings.endpoint, port=1))
    with pytest.raises(Refused):  # a scratch grant is for its own server only
        pg.create_database(place.admin, place.new, guard.scratch_space(other, "t").grant(place.new))
    assert not _exists(place, place.new)


def test_snapshot_build_makes_only_scratch_databases(place: Place) -> None:
    """Its clone, and the older snapshots it drops, each ask the space it was given."""
    other = replace(place.settings, endpoint=replace(place.settings.endpoint, port=1))
    with pytest.raises(Refused):
        snapshot.build(
            place.admin,
            place.database,
            place.new,
            (place.database, False),
            (),
            guard.scratch_space(other, "t"),
        )
    assert not _exists(place, place.new)


def test_revision_files_are_written_only_where_granted(place: Place, tmp_path: Path) -> None:
    elsewhere = guard.files((tmp_path / "elsewhere",), "test")
    before = sorted(place.project.versions.iterdir())
    with pytest.raises(Refused):
        autogen.empty_revision(place.ws, "nothing here", elsewhere)
    assert sorted(place.project.versions.iterdir()) == before
    new = autogen.empty_revision(place.ws, "written", guard.files((place.project.versions,), "t"))
    assert new.path is not None and (place.project.root / new.path).is_file()


def test_grants_come_from_the_guard_only() -> None:
    from dbtasks.grants import FileGrant, ScratchSpace, Target

    with pytest.raises(TypeError):
        Grant(Intent.DESTROY, Target("127.0.0.1", 5432, None), "forged", object())
    with pytest.raises(TypeError):
        ScratchSpace("127.0.0.1", 5432, (), "forged", object())
    with pytest.raises(TypeError):
        FileGrant((Path("/"),), "forged", object())


# Every function that checks a grant, by module: the walk above covers each.
WALKED = {
    "pg.py": {"create_database", "drop_database", "drop_schema", "drop_table"},
    "adapter/run.py": {"migrate", "stamp"},
    "adapter/runtime.py": {"prepare_connection"},
    "adapter/autogen.py": {"files_allowed", "_written", "_no_broken_file"},
    "migrations/journal.py": {"ensure", "record"},
    "seeds.py": {"apply_seeds"},
    "baseline.py": {"install"},
    "stack/native.py": {"destroy"},
    "stack/compose.py": {"destroy"},
    # Walked in tests/security/test_squash_grants.py.
    "squash/build.py": {"load"},
    "squash/files.py": {"move_replaced", "put_back", "write_baseline", "prune"},
    # Walked in tests/unit/test_erd_output.py (outside the grant, a link, a special file).
    "erd/output.py": {"_allowed"},
    # Walked in tests/fleet/test_ledger.py (a grant elsewhere, a link out of the project).
    "fleet/ledger.py": {"save"},
    # Walked in tests/e2e/test_plan_copy.py (a grant for another server).
    "plan/copy.py": {"load"},
    # Walked in tests/fleet/test_tenant_schemas.py (another server; a load that fails).
    "fleet/tenant_schemas.py": {"_load"},
    # Walked in tests/e2e/test_plain_env_scratch.py (an env.py connecting on its own).
    "adapter/env_url.py": {"checked"},
}
# Statements that change something, outside those functions, and why that is safe.
UNCHECKED = {
    ("snapshot.py", "build"): "follows create_database on the same name, which checked",
    ("migrations/journal.py", "<module>"): "the table's DDL, run by journal.ensure",
    ("migrations/journal.py", "statement"): "in a revision's transaction (migrate), or by record",
    ("adapter/version_rows.py", "_update_text"): "the version row's move, inside migrate",
    ("adapter/runtime.py", "search_path_sql"): "offline SQL: written out, never run",
    ("adapter/enums.py", "<module>"): "written into new revision files, run by migrate",
    # A squash's baseline: SQL written into the revision file (run by migrate, or by
    # squash/build.py's load under the scratch grant for the proof).
    ("squash/carry.py", "extensions"): "written into the baseline revision",
    ("squash/carry.py", "security"): "written into the baseline revision",
    ("squash/carry.py", "rows"): "written into the baseline revision",
    ("squash/dump.py", "fit"): "written into the baseline revision",
    ("squash/build.py", "_drops"): "written into the baseline revision's downgrade",
}  # fmt: skip
_CHANGES = re.compile(
    r"\b(CREATE (DATABASE|SCHEMA|TABLE|EXTENSION)|DROP (DATABASE|SCHEMA|TABLE)|INSERT INTO|"
    r"DELETE FROM|ALTER (DATABASE|TABLE|SYSTEM)|COMMENT ON|UPDATE \S+ SET|TRUNCATE)\b"
)


def _functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node of `tree` and the name of the function around it ("<module>": none)."""
    owner: dict[ast.AST, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else name
            owner[child] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return owner


def _sources() -> Iterator[tuple[str, ast.AST]]:
    root = REPO / "src" / "dbtasks"
    for path in sorted(root.rglob("*.py")):
        if path.name != "grants.py":
            yield str(path.relative_to(root)), ast.parse(path.read_text(encoding="utf-8"))


def test_every_function_that_checks_a_grant_is_walked() -> None:
    checking: dict[str, set[str]] = {}
    for module, tree in _sources():
        for node, function in _functions(tree).items():
            called = getattr(getattr(node, "func", None), "attr", None)
            if isinstance(node, ast.Call) and called in ("require", "require_server"):
                checking.setdefault(module, set()).add(function)
    assert checking == WALKED, "a new effect checks a grant: walk it in this module"


def test_every_statement_that_changes_something_is_behind_a_grant() -> None:
    """SQL text that creates, drops, writes or alters lives in a function that checks a
    grant, or is listed above with the reason it is safe."""
    loose = []
    for module, tree in _sources():
        owner = _functions(tree)
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        for node, function in owner.items():
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if id(node) in docstrings or not _CHANGES.search(node.value):
                continue
            if function in WALKED.get(module, set()) or (module, function) in UNCHECKED:
                continue
            loose.append(f"{module}:{function}: {node.value[:50]!r}")
    assert loose == []
