"""SQL text cut into statements by Postgres' own parser (libpq_query, through pglast), so
`E'it\\'s; fine'`, nested comments and `BEGIN ATOMIC ... END` bodies stay whole, and each
statement knows the line it starts on for file:line messages."""

from __future__ import annotations

from dataclasses import dataclass

from dbtasks.errors import DbTasksError


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line of the statement's first character in its text


class SqlSyntaxError(DbTasksError):
    """The text does not parse as Postgres SQL; `line` is where the parser stopped."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def split_sql(text: str) -> list[Statement]:
    """Every statement of `text`, in order, without comments around it."""
    from pglast import parser

    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as exc:
        message, position = (*exc.args, 0)[:2]
        raise SqlSyntaxError(str(message), _line(text, int(position or 0))) from None
    return [Statement(text[s].strip(), _line(text, s.start)) for s in slices if text[s].strip()]


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1
