"""AQL as a sqlglot dialect, plus the trailing time clause (``LAST`` / ``START ... STOP``).

AQL facts used (feasibility.md 1.2): single quotes delimit strings and aliases, a quote inside a
string is doubled, a backslash is an ordinary character; double quotes delimit identifiers;
``MATCHES``/``IMATCHES`` are regex operators; the time clause comes last, after ``LIMIT``.
Every function stays an anonymous call here (only the SQL aggregates keep their meaning), so
:mod:`iisdetect.aql.translate` decides what each name means and refuses unknown ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp, parser, tokens
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from iisdetect.aql.dates import absolute_ms
from iisdetect.aql.errors import AqlSyntaxError

_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG"}


class AQL(Dialect):
    NORMALIZATION_STRATEGY = NormalizationStrategy.CASE_INSENSITIVE
    NULL_ORDERING = "nulls_are_last"

    class Tokenizer(tokens.Tokenizer):
        QUOTES = ["'"]
        IDENTIFIERS = ['"']
        STRING_ESCAPES = ["'"]  # backslash stays literal
        KEYWORDS = {
            **tokens.Tokenizer.KEYWORDS,
            "MATCHES": TokenType.RLIKE,
            "IMATCHES": TokenType.IRLIKE,
        }

    class Parser(parser.Parser):
        FUNCTIONS = {k: v for k, v in parser.Parser.FUNCTIONS.items() if k in _AGGREGATES}
        FUNCTION_PARSERS: dict = {}
        NO_PAREN_FUNCTIONS: dict = {}


@dataclass(frozen=True)
class TimeClause:
    """``LAST n unit`` (``last_ms``) or ``START``/``STOP`` as epoch ms bounds (stop exclusive)."""

    text: str
    last_ms: int | None = None
    start_ms: int | None = None
    stop_ms: int | None = None  # None: STOP omitted, meaning "now"
    start_rel: str | None = None  # START PARSEDATETIME('1 hour ago'): resolved against "now"
    stop_rel: str | None = None


_UNIT_MS = {"MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_INSTANT = r"'[^']*'|\d+|PARSEDATETIME\s*\(\s*'[^']*'\s*\)"
_TIME_RE = re.compile(
    r"\s+(LAST\s+(?P<n>\d+)\s+(?P<unit>MINUTES?|HOURS?|DAYS?)"
    rf"|START\s+(?P<start>{_INSTANT})(?:\s+STOP\s+(?P<stop>{_INSTANT}))?)\s*;?\s*$",
    re.IGNORECASE,
)
_REL = re.compile(r"PARSEDATETIME\s*\(\s*'([^']*)'\s*\)", re.IGNORECASE)


def _instant(token: str) -> tuple[int, bool]:
    """Epoch ms of a START/STOP operand (UTC), and whether it names a second within a minute."""
    if not token.startswith("'"):
        ms = int(token)
        return ms, ms % 60_000 != 0
    found = absolute_ms(token[1:-1])
    if found:
        return found
    raise AqlSyntaxError(f"cannot read time {token} (use 'yyyy-MM-dd HH:mm[:ss]' or epoch milliseconds)")


def split_time_clause(query: str) -> tuple[str, TimeClause | None]:
    """Strip a trailing time clause. START/STOP keep whole-minute granularity (IBM's example:
    START 15:51:20 STOP 17:00:20 covers 15:51:00 to 17:00:59; a STOP given to the minute only is
    exclusive)."""
    m = _TIME_RE.search(query)
    if not m:
        return query.rstrip().rstrip(";"), None
    rest = query[: m.start()]
    text = m.group(1)
    if m.group("n"):
        unit = m.group("unit").upper().rstrip("S")
        return rest, TimeClause(text, last_ms=int(m.group("n")) * _UNIT_MS[unit])
    start_rel = _REL.fullmatch(m.group("start"))
    stop_rel = _REL.fullmatch(m.group("stop") or "")
    start = stop = None
    if not start_rel:
        start, _ = _instant(m.group("start"))
        start -= start % 60_000
    if m.group("stop") and not stop_rel:
        stop, with_seconds = _instant(m.group("stop"))
        stop -= stop % 60_000
        if with_seconds:
            stop += 60_000
    return rest, TimeClause(
        text, start_ms=start, stop_ms=stop,
        start_rel=start_rel.group(1) if start_rel else None, stop_rel=stop_rel.group(1) if stop_rel else None,
    )  # fmt: skip


def parse(query: str) -> tuple[list[exp.Expression], TimeClause | None]:
    """Parse AQL into sqlglot statements (a list: the guard refuses more than one)."""
    body, clause = split_time_clause(query)
    try:
        trees = [t for t in sqlglot.parse(body, read=AQL) if t is not None]
    except (ParseError, TokenError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AqlSyntaxError(f"AQL syntax error: {msg}") from exc
    if not trees:
        raise AqlSyntaxError("empty query")
    return trees, clause
