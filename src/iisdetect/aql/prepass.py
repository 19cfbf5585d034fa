"""Token-level rewrites that turn AQL-only syntax into something sqlglot parses, before parsing.

- ``(SELECT ...)`` subqueries are cut out, one nesting level at a time, and replaced by the
  placeholder ``(__aqlsubN)`` (scalar and ``IN`` subqueries) or by ``events`` with a note
  (``FROM (SELECT ...)``). Each subquery is then compiled on its own, with its own trailing
  ``LAST``/``START`` clause (IBM: https://www.ibm.com/docs/en/qsip/7.6.0?topic=language-aql-subquery,
  ``... IN (SELECT username FROM events LIMIT 10 LAST 5 MINUTES) LAST 24 HOURS``).
- ``TEXT SEARCH 'text'`` (or ``TEXT SEARCH = 'text'``) becomes ``AQL_TEXT_SEARCH('text')`` (IBM WHERE
  clause page); :mod:`iisdetect.aql.textsearch` reads the search text.
- ``ORDER BY x DESC COLLATE 'de-CH'`` (IBM's operator table writes COLLATE after DESC) becomes
  ``x COLLATE 'de-CH' DESC``.
- AQL clauses the emulator does not run (``PARAMETERS``, ``INTO``, ``SESSION``, ``TIMEFRAME``) are
  refused here, each by name, rather than as a generic syntax error.

Rewrites work on token offsets, so string literals are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from iisdetect.aql.dialect import AQL
from iisdetect.aql.errors import AqlError, AqlSyntaxError

PLACEHOLDER = "__aqlsub"
#: AQL clauses that exist on QRadar but not in the emulator, and why.
REFUSED_WORDS = {
    "PARAMETERS": "PARAMETERS (query options such as REMOTESERVERS or EXECUTIONTIMELIMIT) need a QRadar deployment",
    "INTO": "INTO <cursor> (saved result cursors) is not emulated",
    "SESSION": "SESSION (saved searches) is not emulated",
    "TIMEFRAME": "TIMEFRAME is not emulated; use LAST or START ... STOP",
}


class Unsupported(AqlError):
    """An AQL construct the emulator does not run; the message names it."""


@dataclass
class Prepared:
    text: str
    subqueries: list[str] = field(default_factory=list)  # texts, index = placeholder number
    from_subquery: int | None = None  # FROM (SELECT ...): which subquery


def _tokens(text: str) -> list[Token]:
    try:
        return AQL().tokenize(text)
    except TokenError as exc:
        raise AqlSyntaxError(f"AQL syntax error: {exc}") from exc


def _matching(toks: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].token_type == TokenType.L_PAREN:
            depth += 1
        elif toks[j].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return j
    raise AqlSyntaxError("AQL syntax error: unbalanced parentheses")


_UNITS = {"MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS"}


def prepare(query: str, extract: bool = True) -> Prepared:
    """``extract=False`` (for the lint) leaves subqueries in place and drops their time clauses."""
    toks = _tokens(query)
    out: list[str] = []
    prep = Prepared(text="")
    pos = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        word = t.text.upper() if t.token_type in (TokenType.VAR, TokenType.INTO) else ""
        if word in REFUSED_WORDS:
            raise Unsupported(f"not supported: {REFUSED_WORDS[word]}")
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if (
            not extract and word == "LAST" and i + 3 < len(toks) and toks[i + 1].token_type == TokenType.NUMBER
            and toks[i + 2].text.upper() in _UNITS and toks[i + 3].token_type == TokenType.R_PAREN
        ):  # fmt: skip
            out.append(query[pos : t.start])
            pos = toks[i + 2].end + 1
            i += 3
            continue
        if extract and t.token_type == TokenType.L_PAREN and nxt is not None and nxt.token_type == TokenType.SELECT:
            j = _matching(toks, i)
            n = len(prep.subqueries)
            prep.subqueries.append(query[nxt.start : toks[j].start])
            prev = toks[i - 1] if i else None
            out.append(query[pos : t.start])
            if prev is not None and prev.token_type == TokenType.FROM:
                if prep.from_subquery is not None:
                    raise Unsupported("not supported: more than one subquery in FROM")
                prep.from_subquery = n
                out.append("events")
            else:
                out.append(f"({PLACEHOLDER}{n})")
            pos = toks[j].end + 1
            i = j + 1
            continue
        if t.token_type == TokenType.TEXT and nxt is not None and nxt.text.upper() == "SEARCH":
            k = i + 2
            if k < len(toks) and toks[k].token_type == TokenType.EQ:
                k += 1  # IBM's sample queries page also writes TEXT SEARCH = '...'
            term = toks[k] if k < len(toks) else None
            if term is None or term.token_type != TokenType.STRING:
                raise AqlSyntaxError("AQL syntax error: TEXT SEARCH needs a quoted search text")
            out.append(query[pos : t.start])
            out.append(f"AQL_TEXT_SEARCH({query[term.start : term.end + 1]})")
            pos = term.end + 1
            i = k + 1
            continue
        if (
            t.token_type in (TokenType.DESC, TokenType.ASC)
            and nxt is not None
            and nxt.token_type == TokenType.COLLATE
            and i + 2 < len(toks)
        ):
            coll = toks[i + 2]
            out.append(query[pos : t.start])
            out.append(f"COLLATE {query[coll.start : coll.end + 1]} {t.text}")
            pos = coll.end + 1
            i += 3
            continue
        i += 1
    out.append(query[pos:])
    prep.text = "".join(out)
    return prep
