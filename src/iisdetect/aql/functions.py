"""AQL functions -> DuckDB expressions, and the DuckDB macros some of them call.

Each AQL function is a small handler from its (already translated) argument expressions to a
DuckDB expression. Names not in :data:`FUNCTIONS` are an error naming the function. The IBM pages
each comes from are listed in docs/aql.md ("Language supported").

Lookups (QIDNAME, LOGSOURCENAME, CATEGORYNAME, REFERENCEMAP, ...) are macros over lookup tables
whose columns all start with ``aql_lk_``, a prefix no events column may take
(:data:`iisdetect.aql.table.LOOKUP_PREFIX`). Inside the lookup's subquery the argument therefore
always binds to the events row: ``QIDNAME(qid)`` works in SELECT, WHERE, GROUP BY, HAVING and
ORDER BY alike. INCIDR and NETWORKNAME are Python functions (IPv4 and IPv6, :mod:`ipaddress`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from iisdetect.aql.dates import dateformat_sql, parse_datetime
from iisdetect.aql.errors import AqlError
from iisdetect.aql.javaregex import java_replacement, java_to_re2
from iisdetect.aql.textsearch import text_search


@dataclass(frozen=True)
class Context:
    now_ms: int
    has_starttime: bool = True  # False inside a query over a subquery without starttime


Handler = Callable[[list[exp.Expression], Context], exp.Expression]

_LK = "aql_lk_"
#: Created on every query connection (before locking). Arguments are DuckDB expressions.
MACROS = (
    f"CREATE OR REPLACE TEMP MACRO aql_logsourcename(x) AS (SELECT {_LK}name FROM aql_logsources WHERE {_LK}id = x)",
    f"CREATE OR REPLACE TEMP MACRO aql_logsourcetypename(x) AS "
    f"(SELECT {_LK}name FROM aql_devicetypes WHERE {_LK}id = x)",
    f"CREATE OR REPLACE TEMP MACRO aql_qidname(x) AS (SELECT {_LK}name FROM aql_qids WHERE {_LK}id = x)",
    f"CREATE OR REPLACE TEMP MACRO aql_categoryname(x) AS (SELECT {_LK}name FROM aql_categories WHERE {_LK}id = x)",
    f"CREATE OR REPLACE TEMP MACRO aql_lsgroupname(x) AS (SELECT {_LK}name FROM aql_lsgroups WHERE {_LK}id = x)",
    # IPv4 dotted quad -> integer (NULL when not an address).
    "CREATE OR REPLACE TEMP MACRO aql_ip2int(ip) AS CASE WHEN regexp_full_match(CAST(ip AS VARCHAR),"
    " '\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}') THEN"
    " (CAST(split_part(CAST(ip AS VARCHAR), '.', 1) AS BIGINT) << 24)"
    " + (CAST(split_part(CAST(ip AS VARCHAR), '.', 2) AS BIGINT) << 16)"
    " + (CAST(split_part(CAST(ip AS VARCHAR), '.', 3) AS BIGINT) << 8)"
    " + CAST(split_part(CAST(ip AS VARCHAR), '.', 4) AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO aql_long(x) AS COALESCE(aql_ip2int(x), TRY_CAST(CAST(x AS VARCHAR) AS BIGINT))",
    f"CREATE OR REPLACE TEMP MACRO aql_refset(s, v) AS"
    f" EXISTS (SELECT 1 FROM aql_refsets WHERE {_LK}name = s AND {_LK}value = CAST(v AS VARCHAR))",
    f"CREATE OR REPLACE TEMP MACRO aql_refmap(s, k) AS (SELECT {_LK}value FROM aql_refmaps"
    f" WHERE {_LK}name = s AND {_LK}key = CAST(k AS VARCHAR))",
    f"CREATE OR REPLACE TEMP MACRO aql_reftable(s, c, k) AS (SELECT {_LK}value FROM aql_reftables"
    f" WHERE {_LK}name = s AND {_LK}inner = c AND {_LK}outer = CAST(k AS VARCHAR))",
)


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
    sql = dateformat_sql(_literal("DATEFORMAT", a[1], "the pattern"), a[0].sql(dialect="duckdb"))
    return exp.Paren(this=sqlglot.parse_one(sql, read="duckdb"))


def _parsedatetime(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("PARSEDATETIME", a, 1)
    ms = parse_datetime(_literal("PARSEDATETIME", a[0], "the time"), ctx.now_ms)
    return exp.cast(exp.Literal.number(ms), "BIGINT")


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


def _lookup(aql: str, macro: str, literal_args: int = 0, n: int = 1) -> Handler:
    def handler(a: list[exp.Expression], ctx: Context) -> exp.Expression:
        _arity(aql, a, n)
        for i in range(literal_args):
            _literal(aql, a[i], "the reference data name" if i == 0 else "the column name")
        return _call(macro, *a)

    return handler


def _substring(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """SUBSTRING(s, start, length) with a 0-based start (IBM: SUBSTRING(userName, 0, 3))."""
    _arity("SUBSTRING", a, 2, 3)
    start = exp.Add(this=exp.Paren(this=a[1]), expression=exp.Literal.number(1))
    return _call("substring", exp.cast(a[0], "VARCHAR"), start, *a[2:])


def _replaceall(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """REPLACEALL('regex', text, 'replacement'): a Java regex and Java replacement string."""
    _arity("REPLACEALL", a, 3)
    rx = exp.Literal.string(java_to_re2(_literal("REPLACEALL", a[0], "the regex")))
    repl = a[2]
    if isinstance(repl, exp.Literal) and repl.is_string:
        repl = exp.Literal.string(java_replacement(repl.this))
    return _call("regexp_replace", exp.cast(a[1], "VARCHAR"), rx, repl, exp.Literal.string("g"))


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


def _first_last(name: str) -> Handler:
    """FIRST/LAST: the value of the group's earliest/latest event (by starttime, as Ariel stores)."""

    def handler(a: list[exp.Expression], ctx: Context) -> exp.Expression:
        _arity(name, a, 1)
        if not ctx.has_starttime:
            return _call("first" if name == "FIRST" else "last", a[0])
        by = exp.Column(this=exp.to_identifier("starttime", quoted=True))
        return _call("arg_min" if name == "FIRST" else "arg_max", a[0], by)

    return handler


def _text_search(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    """TEXT SEARCH 'search text': the Quick Filter syntax over the payload (:mod:`iisdetect.aql.textsearch`)."""
    _arity("TEXT SEARCH", a, 1)
    text = _literal("TEXT SEARCH", a[0], "the search text")
    return text_search(text, exp.cast(exp.Column(this=exp.to_identifier("payload", quoted=True)), "VARCHAR"))


def _str(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("STR", a, 1)
    return exp.cast(a[0], "VARCHAR")


def _double(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("DOUBLE", a, 1)
    return exp.TryCast(this=a[0], to=exp.DataType.build("DOUBLE"))


def _strlen(a: list[exp.Expression], ctx: Context) -> exp.Expression:
    _arity("STRLEN", a, 1)
    return _call("length", exp.cast(a[0], "VARCHAR"))


FUNCTIONS: dict[str, Handler] = {
    "DATEFORMAT": _dateformat,
    "PARSEDATETIME": _parsedatetime,
    "LOGSOURCENAME": _lookup("LOGSOURCENAME", "aql_logsourcename"),
    "LOGSOURCETYPENAME": _lookup("LOGSOURCETYPENAME", "aql_logsourcetypename"),
    "LOGSOURCEGROUPNAME": _lookup("LOGSOURCEGROUPNAME", "aql_lsgroupname"),
    "QIDNAME": _lookup("QIDNAME", "aql_qidname"),
    "QIDDESCRIPTION": _lookup("QIDDESCRIPTION", "aql_qidname"),
    "CATEGORYNAME": _lookup("CATEGORYNAME", "aql_categoryname"),
    "NETWORKNAME": _simple("aql_networkname", 1),
    "LOWER": _simple("lower", 1),
    "UPPER": _simple("upper", 1),
    "STR": _str,
    "LONG": _lookup("LONG", "aql_long"),
    "DOUBLE": _double,
    "CONCAT": _simple("concat", 1, 255),
    "REPLACEALL": _replaceall,
    "SUBSTRING": _substring,
    "STRLEN": _strlen,
    "UTF8": lambda a, ctx: (_arity("UTF8", a, 1), exp.cast(a[0], "VARCHAR"))[1],
    "INCIDR": _simple("aql_incidr", 2),
    "REFERENCESETCONTAINS": _lookup("REFERENCESETCONTAINS", "aql_refset", literal_args=1, n=2),
    "REFERENCEMAP": _lookup("REFERENCEMAP", "aql_refmap", literal_args=1, n=2),
    "REFERENCETABLE": _lookup("REFERENCETABLE", "aql_reftable", literal_args=2, n=3),
    "UNIQUECOUNT": _uniquecount,
    "DISTINCTCOUNT": _uniquecount,  # IBM estimates (HyperLogLog+); the emulator counts exactly
    "STDEV": _simple("stddev_samp", 1),
    "STDEVP": _simple("stddev_pop", 1),
    "BASE64": lambda a, ctx: (_arity("BASE64", a, 1), _call("to_base64", _call("encode", exp.cast(a[0], "TEXT"))))[1],
    "FIRST": _first_last("FIRST"),
    "LAST": _first_last("LAST"),
    "AQL_TEXT_SEARCH": _text_search,  # what the pre-pass makes of TEXT SEARCH 'search text'
    "NOW": _now,
    "DATEADD": _dateadd,
    "LOGSOURCETIME": _identity("LOGSOURCETIME"),
}

#: Aggregates (the SQL ones are typed sqlglot nodes; these are AQL's own names).
AQL_AGGREGATES = {"UNIQUECOUNT", "DISTINCTCOUNT", "FIRST", "LAST", "STDEV", "STDEVP"}

#: The seed's functions: not in IBM's AQL reference (feasibility.md 1.3); emulated, and linted.
NOT_IBM = {"NOW", "DATEADD", "LOGSOURCETIME"}

#: IBM functions the emulator does not offer: named in the refusal (and by --lint).
UNSUPPORTED = {
    "APPLICATIONNAME": "flows only; the emulator's flows table is empty",
    "ARIELSERVERS4EPID": "needs a QRadar deployment", "ARIELSERVERS4EPNAME": "needs a QRadar deployment",
    "PROCESSORNAME": "needs a QRadar deployment", "RULENAME": "needs QRadar's custom rule engine",
    "INOFFENSE": "needs QRadar offenses", "ASSETUSER": "needs QRadar's asset model",
    "ASSETHOSTNAME": "needs QRadar's asset model", "ASSETPROPERTY": "needs QRadar's asset model",
    "XFORCE_IP_CONFIDENCE": "needs X-Force", "XFORCE_URL_CATEGORY": "needs X-Force",
    "GEO": "needs QRadar's geographic data", "PROTOCOLNAME": "flows only",
    "DOMAINNAME": "needs QRadar's domains", "MATCHESASSETSEARCH": "needs QRadar's asset model",
    "HOSTNAME": "needs QRadar's asset model",
}  # fmt: skip
