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
    error: str | None = None  # why the parser rejects it (split_lenient only)


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


def split_lenient(text: str) -> list[Statement]:
    """Every statement of `text` like split_sql, but one the parser rejects does not stop
    the rest: it stands alone, cut at the semicolons around it, with the parser's message.
    A revision with one unreadable statement still has all its others read."""
    return [s for s in _lenient(text, 0, len(text)) if s.sql]


def _lenient(text: str, lo: int, hi: int) -> list[Statement]:
    from pglast import parser

    found: list[Statement] = []
    while lo < hi:
        try:
            slices = parser.split(text[lo:hi], with_parser=True, only_slices=True)
        except parser.ParseError as exc:
            message, position = (*exc.args, None)[:2]
            start, end = _around(text, lo, hi, hi if position is None else lo + int(position))
            # Before it all parses, unless the error is inside a BEGIN ATOMIC body.
            found += _lenient(text, lo, start)
            found.append(Statement(text[start:end].strip(), _line(text, start), str(message)))
            lo = end + 1
        else:
            shifted = [slice(lo + s.start, lo + s.stop) for s in slices]
            return found + [Statement(text[s], _line(text, s.start)) for s in shifted]
    return found


def _around(text: str, lo: int, hi: int, at: int) -> tuple[int, int]:
    """Where the statement holding position `at` starts (its first token after the last
    semicolon before `at`) and ends (its semicolon, or `hi`), as Postgres' scanner sees it."""
    before = _tokens(text, lo, at)
    semicolons = [i for i, (_, name) in enumerate(before) if name == _SEMICOLON]
    own = before[semicolons[-1] + 1 :] if semicolons else before
    after = [start for start, name in _tokens(text, at, hi) if name == _SEMICOLON]
    # Nothing after the last semicolon yet the text ended too soon: that semicolon was
    # inside the statement (a BEGIN ATOMIC body), which so starts where the text does.
    start = own[0][0] if own else at if at < hi else lo
    return start, (after[0] if after else hi)


_SEMICOLON = "ASCII_59"
_COMMENTS = ("SQL_COMMENT", "C_COMMENT")


def _tokens(text: str, lo: int, hi: int) -> list[tuple[int, str]]:
    """(start, name) of each token of text[lo:hi] but comments, as far as it scans: an
    unterminated quote ends the scan where it starts."""
    from pglast import parser

    try:
        found = parser.scan(text[lo:hi])
    except parser.ParseError as exc:
        position = (*exc.args, None)[1]
        return _tokens(text, lo, lo + int(position)) if position else []
    return [(lo + t.start, t.name) for t in found if t.name not in _COMMENTS]


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1
