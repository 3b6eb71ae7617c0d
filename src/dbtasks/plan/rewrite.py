"""The safe form of one traced statement, where it can be written mechanically.

Three kinds can be (`inv db.plan --fix` writes them into a new revision):

- an index built without CONCURRENTLY on an existing table: `op.create_index(...,
  postgresql_concurrently=True)` inside an `autocommit_block()`, after dropping (if it
  exists, concurrently) the INVALID index a failed build leaves behind;
- a foreign key or CHECK added validated to an existing table: added NOT VALID (a brief
  lock; new rows are checked from then on), then VALIDATE CONSTRAINT in an
  `autocommit_block()` under a lock_timeout (a scan that blocks no reads or writes);
- ADD COLUMN on an existing table: the same statement, under a lock_timeout.

Each is read from the statement's parse tree (pglast) and written back from it, so names
keep their quoting. A statement with any hint the safe form does not answer, several
subcommands, a partitioned table where the safe form does not work, or text SQLAlchemy
would read bind parameters in, has no safe form: its hint stays a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbtasks.plan.hint_base import LOCK_TIMEOUT
from dbtasks.plan.model import Fact, Traced

_EITHER = frozenset({"no-lock-timeout", "work-under-exclusive-lock"})
# The hints each safe form answers: a statement with any other keeps its hints.
RESOLVES = {
    "index": _EITHER | {"index-not-concurrent"},
    "constraint": _EITHER | {"validated-constraint"},
    "column": _EITHER,
}
SET_LOCAL = f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
AUTOCOMMIT = "with op.get_context().autocommit_block():"


@dataclass(frozen=True)
class Step:
    code: str  # one line of Python in upgrade() or downgrade()
    autocommit: bool = False  # inside an autocommit_block(); else in a transaction


@dataclass(frozen=True)
class Safe:
    kind: str  # index, constraint, column
    upgrade: tuple[Step, ...]
    downgrade: tuple[Step, ...]
    undo: tuple[str, ...]  # the key of the statement that undoes it (see `undo_key`)
    uses_sa: bool = False  # the code calls sa.text()

    def answers(self, s: Traced) -> bool:
        """It answers at least one of the statement's hints (so moving it is a fix)."""
        return any(h.code in RESOLVES[self.kind] for h in s.hints)


def safe_form(s: Traced) -> Safe | None:
    """The statement's safe form, or None when it has none that is mechanical."""
    node = _parsed(s.sql)
    if node is None or not s.transactional or s.reads:
        return None
    for build in (_index, _constraint, _column):
        found = build(node, s.facts)
        if found is not None:
            return found if {h.code for h in s.hints} <= RESOLVES[found.kind] else None
    return None


def undo_key(sql: str) -> tuple[str, ...] | None:
    """What a downgrade's statement undoes: ("index", name) for DROP INDEX, ("constraint",
    table, name) for DROP CONSTRAINT, ("column", table, name) for DROP COLUMN."""
    from pglast import ast, enums

    node = _parsed(sql)
    if isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_INDEX:
        objects = node.objects or ()
        return ("index", objects[0][-1].sval) if len(objects) == 1 else None
    kinds = {enums.AlterTableType.AT_DropConstraint: "constraint"}
    kinds[enums.AlterTableType.AT_DropColumn] = "column"
    cmd = _only_cmd(node, *kinds)
    if cmd is None:
        return None
    return (kinds[cmd.subtype], node.relation.relname, cmd.name)


def _parsed(sql: str) -> Any:
    """A fresh parse tree of the one statement in `sql` (None: not exactly one)."""
    from pglast import parse_sql, parser

    try:
        found = parse_sql(sql)
    except parser.ParseError:
        return None
    return found[0].stmt if len(found) == 1 else None


def _index(node: Any, facts: list[Fact]) -> Safe | None:
    from pglast import ast

    made = [f for f in facts if f.kind == "index"]
    if not isinstance(node, ast.IndexStmt) or node.concurrent or len(made) != 1:
        return None
    rel: Any = node.relation
    if not node.idxname or node.options or node.tableSpace or rel is None or not rel.inh:
        return None
    if "partitioned" in made[0].flags or not _plain(_deparsed(node)):
        return None
    args = [_literal(node.idxname), _literal(rel.relname), _columns(node.indexParams)]
    args += _index_options(node)
    where = [f"table_name={_literal(rel.relname)}", *_schema(rel)]
    drop = f"op.drop_index({', '.join([_literal(node.idxname), *where])}, "
    drop += "postgresql_concurrently=True, if_exists=True)"
    create = f"op.create_index({', '.join(args)}, postgresql_concurrently=True)"
    return Safe(
        "index",
        (Step(drop, True), Step(create, True)),
        (Step(drop, True),),
        ("index", node.idxname),
        uses_sa="sa.text(" in create,
    )


def _index_options(node: Any) -> list[str]:
    """Everything else op.create_index needs to build the same index."""
    from pglast.stream import RawStream

    found = [*_schema(node.relation)]
    found += ["unique=True"] if node.unique else []
    if node.accessMethod and node.accessMethod != "btree":
        found.append(f"postgresql_using={_literal(node.accessMethod)}")
    if node.indexIncludingParams:
        found.append(f"postgresql_include={_columns(node.indexIncludingParams)}")
    if node.whereClause is not None:
        found.append(f"postgresql_where=sa.text({_literal(RawStream()(node.whereClause))})")
    found += ["postgresql_nulls_not_distinct=True"] if node.nulls_not_distinct else []
    return found


def _columns(elements: Any) -> str:
    """An index's elements: a plain column by name, anything else (an expression, an
    order, an operator class) as the SQL text of the element."""
    from pglast.stream import RawStream

    found = []
    for e in elements:
        plain = e.name and not (e.expr or e.collation or e.opclass or e.opclassopts)
        if plain and not e.ordering and not e.nulls_ordering:
            found.append(_literal(e.name))
        else:
            found.append(f"sa.text({_literal(RawStream()(e))})")
    return f"[{', '.join(found)}]"


def _constraint(node: Any, facts: list[Fact]) -> Safe | None:
    from pglast import enums

    cmd = _only_cmd(node, enums.AlterTableType.AT_AddConstraint)
    made = [f for f in facts if f.kind == "constraint"]
    if cmd is None or len(made) != 1 or "not valid" in made[0].flags:
        return None
    con, kind = cmd.def_, enums.ConstrType
    if con.contype not in (kind.CONSTR_FOREIGN, kind.CONSTR_CHECK) or con.skip_validation:
        return None
    if con.contype == kind.CONSTR_FOREIGN and "partitioned" in made[0].flags:
        return None
    con.conname = con.conname or made[0].detail.split(" ")[0]
    con.skip_validation, con.initially_valid = True, False
    validate = _alter(node.relation, enums.AlterTableType.AT_ValidateConstraint, con.conname)
    drop = _alter(node.relation, enums.AlterTableType.AT_DropConstraint, con.conname, True)
    checked = [
        Step(execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'"), True),
        Step(execute(validate), True),
        Step(execute("RESET lock_timeout"), True),
    ]
    add = _deparsed(node)
    if not _plain(add, validate, drop):
        return None
    key = ("constraint", node.relation.relname, con.conname)
    return Safe("constraint", (Step(execute(add)), *checked), (Step(execute(drop)),), key)


def _column(node: Any, facts: list[Fact]) -> Safe | None:
    from pglast import ast, enums

    cmd = _only_cmd(node, enums.AlterTableType.AT_AddColumn)
    if cmd is None or not isinstance(cmd.def_, ast.ColumnDef):
        return None
    if any(f.kind == "rewrite" for f in facts) or not any(f.kind == "column" for f in facts):
        return None
    name = cmd.def_.colname
    if not name:
        return None
    add = _deparsed(node)
    drop = _alter(node.relation, enums.AlterTableType.AT_DropColumn, name, True)
    if not _plain(add, drop):
        return None
    key = ("column", node.relation.relname, name)
    return Safe("column", (Step(execute(add)),), (Step(execute(drop)),), key)


def _only_cmd(node: Any, *subtypes: Any) -> Any:
    """The one subcommand of an ALTER TABLE, when it is of one of `subtypes`."""
    from pglast import ast, enums

    if not isinstance(node, ast.AlterTableStmt) or node.objtype != enums.ObjectType.OBJECT_TABLE:
        return None
    cmds = node.cmds or ()
    return cmds[0] if len(cmds) == 1 and cmds[0].subtype in subtypes else None


def _alter(relation: Any, subtype: Any, name: str, missing_ok: bool = False) -> str:
    from pglast import ast, enums

    cmd = ast.AlterTableCmd(
        subtype=subtype, name=name, missing_ok=missing_ok, behavior=enums.DropBehavior.DROP_RESTRICT
    )
    return _deparsed(
        ast.AlterTableStmt(relation=relation, cmds=(cmd,), objtype=enums.ObjectType.OBJECT_TABLE)
    )


def _deparsed(node: Any) -> str:
    from pglast.stream import RawStream

    return str(RawStream()(node))


def _schema(rel: Any) -> list[str]:
    return [f"schema={_literal(rel.schemaname)}"] if rel.schemaname else []


def execute(sql: str) -> str:
    """Python that runs `sql` in the new revision."""
    return f"op.execute({_literal(sql)})"


def _plain(*texts: str) -> bool:
    """SQLAlchemy reads no bind parameter in these (op.execute and sa.text take ":name" for
    one, even inside a quoted literal); every text written into the revision is in one."""
    import sqlalchemy as sa

    return not any(sa.text(text).compile().params for text in texts)


def _literal(value: str) -> str:
    """A Python string literal of `value`, in double quotes where that needs no escape."""
    text = repr(value)
    plain = text.startswith("'") and '"' not in value and "'" not in value
    return f'"{text[1:-1]}"' if plain else text
