"""AQL functions -> DuckDB expressions, and the DuckDB macros some of them call.

Each AQL function is a small handler from its argument expressions to a DuckDB expression. Names
not in :data:`FUNCTIONS` are an error naming the function. Lookups (LOGSOURCENAME, QIDNAME, ...)
are macros over the lookup tables :mod:`iisdetect.aql.table` builds; they are created on the
query connection before it is locked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from iisdetect.aql.errors import AqlError


@dataclass(frozen=True)
class Context:
    now_ms: int


Handler = Callable[[list[exp.Expression], Context], exp.Expression]

#: Created on every query connection (before locking). Arguments are DuckDB expressions.
MACROS = (
    "CREATE OR REPLACE TEMP MACRO aql_logsourcename(x) AS (SELECT name FROM aql_logsources WHERE id = x)",
    "CREATE OR REPLACE TEMP MACRO aql_logsourcetypename(x) AS (SELECT name FROM aql_devicetypes WHERE id = x)",
    "CREATE OR REPLACE TEMP MACRO aql_qidname(x) AS (SELECT name FROM aql_qids WHERE qid = x)",
    "CREATE OR REPLACE TEMP MACRO aql_categoryname(x) AS (SELECT name FROM aql_categories WHERE id = x)",
    # IPv4 dotted quad -> integer (NULL when not an address).
    "CREATE OR REPLACE TEMP MACRO aql_ip2int(ip) AS CASE WHEN regexp_full_match(CAST(ip AS VARCHAR),"
    " '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}') THEN"
    " (CAST(split_part(CAST(ip AS VARCHAR), '.', 1) AS BIGINT) << 24)"
    " + (CAST(split_part(CAST(ip AS VARCHAR), '.', 2) AS BIGINT) << 16)"
    " + (CAST(split_part(CAST(ip AS VARCHAR), '.', 3) AS BIGINT) << 8)"
    " + CAST(split_part(CAST(ip AS VARCHAR), '.', 4) AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO aql_long(x) AS COALESCE(aql_ip2int(x), TRY_CAST(CAST(x AS VARCHAR) AS BIGINT))",
    # INCIDR('10.0.0.0/8', ip): a bare address means /32.
    "CREATE OR REPLACE TEMP MACRO aql_incidr(net, ip) AS"
    " (aql_ip2int(ip) >> (32 - COALESCE(TRY_CAST(NULLIF(split_part(net, '/', 2), '') AS INTEGER), 32)))"
    " = (aql_ip2int(split_part(net, '/', 1))"
    " >> (32 - COALESCE(TRY_CAST(NULLIF(split_part(net, '/', 2), '') AS INTEGER), 32)))",
    "CREATE OR REPLACE TEMP MACRO aql_refset(s, v) AS"
    " EXISTS (SELECT 1 FROM aql_refsets WHERE name = s AND value = CAST(v AS VARCHAR))",
)

# Java SimpleDateFormat letters -> strftime (DuckDB). Longest run first.
_JAVA = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
    ("dd", "%d"), ("d", "%-d"), ("HH", "%H"), ("H", "%-H"), ("hh", "%I"), ("h", "%-I"),
    ("mm", "%M"), ("m", "%-M"), ("ss", "%S"), ("s", "%-S"), ("SSS", "%g"), ("a", "%p"),
    ("EEEE", "%A"), ("EEE", "%a"), ("E", "%a"), ("Z", "+0000"), ("z", "UTC"), ("X", "Z"),
]  # fmt: skip
_JAVA_RE = re.compile("'[^']*'|" + "|".join(re.escape(j) for j, _ in _JAVA) + "|[A-Za-z]")
_JAVA_MAP = dict(_JAVA)


def java_date_pattern(pattern: str) -> str:
    """Java SimpleDateFormat pattern -> strftime format (times are rendered in UTC)."""

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith("'"):
            return "'" if tok == "''" else tok[1:-1].replace("%", "%%")
        if tok in _JAVA_MAP:
            return _JAVA_MAP[tok]
        raise AqlError(f"DATEFORMAT: unsupported pattern letter {tok!r} in {pattern!r}")

    out, pos = [], 0
    for m in _JAVA_RE.finditer(pattern):
        out.append(pattern[pos : m.start()].replace("%", "%%"))
        out.append(sub(m))
        pos = m.end()
    out.append(pattern[pos:].replace("%", "%%"))
    return "".join(out)


def _literal(name: str, arg: exp.Expression, what: str) -> str:
    if not (isinstance(arg, exp.Literal) and arg.is_string):
        raise AqlError(f"{name}: {what} must be a string literal")
    return arg.this


def _call(fn: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=fn, expressions=list(args))


def _arity(name: str, args: list[exp.Expression], lo: int, hi: int | None = None) -> None:
    hi = lo if hi is None else hi
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise AqlError(f"{name} takes {want} argument(s), got {len(args)}")


def _dateformat(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("DATEFORMAT", a, 2)
    fmt = java_date_pattern(_literal("DATEFORMAT", a[1], "the pattern"))
    ts = _call("make_timestamp", exp.Mul(this=exp.cast(a[0], "BIGINT"), expression=exp.Literal.number(1000)))
    return _call("strftime", ts, exp.Literal.string(fmt))


_UNITS = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 604_800_000}


def _dateadd(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """DATEADD('unit', n, ms): the seed's function (not in IBM's reference); epoch ms arithmetic."""
    _arity("DATEADD", a, 3)
    unit = _literal("DATEADD", a[0], "the unit").lower().rstrip("s")
    if unit not in _UNITS:
        raise AqlError(f"DATEADD: unknown unit {unit!r} (use {', '.join(_UNITS)})")
    delta = exp.Mul(this=exp.Paren(this=a[1]), expression=exp.Literal.number(_UNITS[unit]))
    return exp.Paren(this=exp.Add(this=a[2], expression=delta))


def _simple(fn: str, lo: int, hi: int | None = None) -> Handler:
    def handler(a: list[exp.Expression], ctx: Context) -> exp.Expression:
        _arity(fn.upper(), a, lo, hi)
        return _call(fn, *a)

    return handler


def _lookup(aql: str, macro: str) -> Handler:
    def handler(a: list[exp.Expression], ctx: Context) -> exp.Expression:
        _arity(aql, a, 1)
        return _call(macro, a[0])

    return handler


def _substring(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """SUBSTRING(s, start, length) with a 0-based start (IBM: SUBSTRING(userName, 0, 3))."""
    _arity("SUBSTRING", a, 2, 3)
    start = exp.Add(this=exp.Paren(this=a[1]), expression=exp.Literal.number(1))
    return _call("substring", exp.cast(a[0], "VARCHAR"), start, *a[2:])


def _replaceall(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """REPLACEALL('regex', text, 'replacement'); Java's $1 group references become RE2's \\1."""
    _arity("REPLACEALL", a, 3)
    repl = a[2]
    if isinstance(repl, exp.Literal) and repl.is_string:
        repl = exp.Literal.string(re.sub(r"\$(\d)", r"\\\1", repl.this))
    return _call("regexp_replace", exp.cast(a[1], "VARCHAR"), a[0], repl, exp.Literal.string("g"))


def _now(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("NOW", a, 0)
    return exp.cast(exp.Literal.number(ctx.now_ms), "BIGINT")


def _identity(name: str) -> Handler:
    def handler(a: list[exp.Expression], ctx: Context) -> exp.Expression:
        _arity(name, a, 1)
        return a[0]

    return handler


def _uniquecount(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("UNIQUECOUNT", a, 1)
    return exp.Count(this=exp.Distinct(expressions=[a[0]]))


FUNCTIONS: dict[str, Handler] = {
    "DATEFORMAT": _dateformat,
    "LOGSOURCENAME": _lookup("LOGSOURCENAME", "aql_logsourcename"),
    "LOGSOURCETYPENAME": _lookup("LOGSOURCETYPENAME", "aql_logsourcetypename"),
    "QIDNAME": _lookup("QIDNAME", "aql_qidname"),
    "QIDDESCRIPTION": _lookup("QIDDESCRIPTION", "aql_qidname"),
    "CATEGORYNAME": _lookup("CATEGORYNAME", "aql_categoryname"),
    "LOWER": _simple("lower", 1),
    "UPPER": _simple("upper", 1),
    "STR": lambda a, ctx: (_arity("STR", a, 1), exp.cast(a[0], "VARCHAR"))[1],
    "LONG": _lookup("LONG", "aql_long"),
    "DOUBLE": lambda a, ctx: (_arity("DOUBLE", a, 1), exp.TryCast(this=a[0], to=exp.DataType.build("DOUBLE")))[1],
    "CONCAT": _simple("concat", 1, 255),
    "REPLACEALL": _replaceall,
    "SUBSTRING": _substring,
    "STRLEN": lambda a, ctx: (_arity("STRLEN", a, 1), _call("length", exp.cast(a[0], "VARCHAR")))[1],
    "UTF8": lambda a, ctx: (_arity("UTF8", a, 1), exp.cast(a[0], "VARCHAR"))[1],
    "INCIDR": _simple("aql_incidr", 2),
    "REFERENCESETCONTAINS": _simple("aql_refset", 2),
    "UNIQUECOUNT": _uniquecount,
    "NOW": _now,
    "DATEADD": _dateadd,
    "LOGSOURCETIME": _identity("LOGSOURCETIME"),
}

#: The seed's functions: not in IBM's AQL reference (feasibility.md 1.3); emulated, and linted.
NOT_IBM = {"NOW", "DATEADD", "LOGSOURCETIME"}
