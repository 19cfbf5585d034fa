"""An AQL query -> DuckDB SQL over the emulator's ``events`` view (subqueries included).

Semantics decided here (docs/aql.md explains each, with the IBM page it follows):
- strings: backslash literal; with ``backslash_escapes`` a ``\\\\`` in any string literal reads as
  one backslash (what the seed query's author meant);
- LIKE/ILIKE pass through (DuckDB has no default escape character either);
- MATCHES/IMATCHES take Java regexes (translated to RE2 or refused, :mod:`.javaregex`) and match
  the whole string (Java ``String.matches``) unless ``matches_search``;
- ``/`` between two integer operands is integer division, as AQL's longs divide
  (``starttime/60000`` is the minute); ``^`` is the power operator (IBM's operator table);
- identifiers resolve case-insensitively to the scope's columns or to SELECT aliases (also in
  WHERE, as IBM allows for an existing alias); anything else is an error naming it;
- output columns are named as QRadar shows them: the alias, else the column, else the expression
  as written (``COUNT(*)``, ``QIDNAME(qid)``);
- with GROUP BY, a selected expression that is neither grouped nor aggregated returns the value
  of the group's first (earliest) event, as IBM's FIRST does;
- the time clause becomes a ``starttime`` range; with none, all data unless ``default_last_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
from sqlglot import exp

from iisdetect.aql import guard
from iisdetect.aql.dates import parse_datetime
from iisdetect.aql.dialect import AQL, TimeClause, parse
from iisdetect.aql.errors import AqlError, UnknownName
from iisdetect.aql.functions import AQL_AGGREGATES, FUNCTIONS, UNSUPPORTED, Context
from iisdetect.aql.javaregex import java_to_re2
from iisdetect.aql.prepass import PLACEHOLDER, Unsupported, prepare
from iisdetect.aql.table import LOOKUP_PREFIX

#: sqlglot's typed nodes that are AQL: aggregates, CASE, IF and the regex operators.
_SQL_FUNCS = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg, exp.Case, exp.If, exp.RegexpLike, exp.RegexpILike)
_AGG_NODES = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)
#: Columns of the events view that hold integers (for AQL's integer division).
INTEGRAL = {
    "starttime", "devicetime", "endtime", "logsourceid", "devicetype", "qid", "category", "highlevelcategory",
    "eventcount", "logsourcetypeid", "eventrecordid", "devicegrouplist",
}  # fmt: skip
MAX_DEPTH = 8


@dataclass(frozen=True)
class Options:
    backslash_escapes: bool = False
    matches_search: bool = False
    default_last_ms: int | None = None  # None: a query without a time clause sees all data


@dataclass(frozen=True)
class Translation:
    sql: str
    time_range: tuple[int | None, int | None]  # [start, stop) in epoch ms, None = open
    tree: exp.Select | None = None
    columns: tuple[str, ...] = ()


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _is_agg(node: exp.Expression) -> bool:
    return any(
        isinstance(n, _AGG_NODES) or (isinstance(n, exp.Anonymous) and str(n.this).upper() in AQL_AGGREGATES)
        for n in node.walk()
    )


def _integral(node: exp.Expression) -> bool:
    """Whether a translated expression is an integer (literal, integer column, LONG, COUNT, ...)."""
    if isinstance(node, exp.Paren):
        return _integral(node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string and node.this.lstrip("-").isdigit()
    if isinstance(node, exp.Column):
        return node.name.lower() in INTEGRAL
    if isinstance(node, exp.Cast):
        return node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT)
    if isinstance(node, exp.Count):
        return True
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in {"aql_long", "length"}
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Mod | exp.IntDiv):
        return _integral(node.this) and _integral(node.expression)
    if isinstance(node, exp.Neg):
        return _integral(node.this)
    return False


@cache
def _collations() -> frozenset[str]:
    con = duckdb.connect()
    try:
        return frozenset(r[0] for r in con.execute("SELECT collname FROM pragma_collations()").fetchall())
    finally:
        con.close()


def _collation(tag: str) -> str:
    """A BCP 47 tag ('de-CH') -> a DuckDB ICU collation ('de_ch', else the language 'de')."""
    name = tag.strip().lower().replace("-", "_")
    for cand in (name, name.split("_")[0]):
        if cand in _collations():
            return cand
    raise AqlError(f"COLLATE {tag!r}: no such collation (BCP 47 language tag, e.g. 'de-CH')")


def _name_of(item: exp.Expression) -> str:
    """The output column name QRadar shows for a SELECT item."""
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column):
        return item.name
    return item.sql(dialect=AQL)


def compile_query(query: str, columns: list[str], now_ms: int, options: Options, depth: int = 0) -> Translation:
    """Compile one AQL query (text) over a scope with ``columns``; subqueries recursively."""
    if depth > MAX_DEPTH:
        raise Unsupported(f"not supported: subqueries nested more than {MAX_DEPTH} deep")
    prep = prepare(query)
    subs = [compile_query(text, columns, now_ms, options, depth + 1) for text in prep.subqueries]
    trees, clause = parse(prep.text)
    tree = guard.check(trees)
    scope = list(columns)
    if prep.from_subquery is not None:
        scope = list(subs[prep.from_subquery].columns)
    t = translate(tree, clause, scope, now_ms, options, subs)
    if prep.from_subquery is not None:
        sub = subs[prep.from_subquery]
        t.tree.set("from_", exp.From(this=exp.Subquery(this=sub.tree)))
        return Translation(t.tree.sql(dialect="duckdb"), sub.time_range, t.tree, t.columns)
    return t


def translate(
    tree: exp.Expression,
    clause: TimeClause | None,
    columns: list[str],
    now_ms: int,
    options: Options,
    subs: list[Translation] | None = None,
) -> Translation:
    if not isinstance(tree, exp.Select):
        raise AqlError("only SELECT queries are supported")
    subs = subs or []
    by_lower = {c.lower(): c for c in columns}
    aliases = {a.alias.lower() for a in tree.expressions if isinstance(a, exp.Alias)}
    ctx = Context(now_ms=now_ms, has_starttime="starttime" in by_lower)
    tree = tree.copy()
    _check_functions(tree)

    def sub_for(node: exp.Expression) -> Translation | None:
        if isinstance(node, exp.Column) and node.name.startswith(PLACEHOLDER) and not node.table:
            return subs[int(node.name[len(PLACEHOLDER) :])]
        return None

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.In) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Subquery):
            return exp.In(this=node.this, query=node.expressions[0])
        if isinstance(node, exp.Paren) and isinstance(node.this, exp.Subquery):
            return node.this
        if isinstance(node, exp.Column):
            if sub_for(node):
                return exp.Subquery(this=sub_for(node).tree)
            if node.table:
                raise UnknownName("property", node.sql(), "qualified names are not AQL")
            name = node.name
            if name.lower().startswith(LOOKUP_PREFIX):
                raise UnknownName("property", name, "names starting with aql_lk_ are reserved by the emulator")
            col = by_lower.get(name.lower())
            if col is not None:
                return exp.Column(this=_ident(col))
            if name.lower() in aliases:
                return exp.Column(this=_ident(name))
            raise UnknownName("property", name, "not a QRadar column, IBM property or Windows field")
        if isinstance(node, exp.Literal) and node.is_string and options.backslash_escapes:
            return exp.Literal.string(node.this.replace("\\\\", "\\"))
        if isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            handler = FUNCTIONS.get(name)
            if handler is None:
                raise UnknownName("function", str(node.this))
            return handler(list(node.expressions), ctx)
        if isinstance(node, exp.RegexpLike | exp.RegexpILike):
            return _regex(node, options)
        if isinstance(node, exp.EQ | exp.NEQ | exp.LT | exp.LTE | exp.GT | exp.GTE):
            return _loose_number(node)
        if isinstance(node, exp.Div) and _integral(node.this) and _integral(node.expression):
            return exp.IntDiv(this=node.this, expression=node.expression)
        if isinstance(node, exp.BitwiseXor):  # AQL's ^ is the power operator
            return exp.Pow(this=node.this, expression=node.expression)
        if isinstance(node, exp.Collate):
            tag = node.expression.this if isinstance(node.expression, exp.Literal) else node.expression.sql()
            return exp.Collate(this=node.this, expression=exp.Var(this=_collation(str(tag))))
        return node

    originals = [e.copy() for e in tree.expressions]
    # GROUP BY / HAVING / ORDER BY name SELECT columns first (AQL), WHERE names properties first.
    # DuckDB binds GROUP BY/HAVING/WHERE names to table columns first, so an alias there is
    # replaced by its (translated) expression; ORDER BY keeps the alias, which DuckDB binds first.
    later = {key: tree.args.get(key) for key in ("where", "group", "having", "order")}
    for key in later:
        tree.set(key, None)
    tree = _post_order(tree, fix)
    by_alias = {a.alias.lower(): a.this for a in tree.expressions if isinstance(a, exp.Alias)}

    def fix_late(node: exp.Expression, key: str) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in by_alias:
            if key == "where" and node.name.lower() in by_lower:
                return fix(node)  # WHERE: a property of that name wins over an alias
            if key == "order":
                return exp.Column(this=_ident(node.name))
            return by_alias[node.name.lower()].copy()
        if (  # GROUP BY 'Full Name' (IBM's 7.4 example quotes an alias like a string)
            key in ("group", "order") and isinstance(node, exp.Literal) and node.is_string
            and node.this.lower() in by_alias and isinstance(node.parent, exp.Group | exp.Ordered)
        ):  # fmt: skip
            return fix_late(exp.Column(this=exp.to_identifier(node.this)), key)
        return fix(node)

    for key, value in later.items():
        if value is not None:
            tree.set(key, _post_order(value, lambda n, k=key: fix_late(n, k)))
    names = _name_columns(tree, originals, columns)
    _first_values(tree, originals, ctx)
    if clause is not None and not ctx.has_starttime:
        raise Unsupported("not supported: a time clause on a query over a subquery; put it inside the subquery")
    tree, rng = _time_filter(tree, clause, now_ms, options)
    return Translation(sql=tree.sql(dialect="duckdb"), time_range=rng, tree=tree, columns=tuple(names))


def _loose_number(node: exp.Expression) -> exp.Expression:
    """``sourcePort <= 3003`` on a text property: compare it as a number (NULL when it is none)."""
    sides = [node.this, node.expression]
    for i, (a, b) in enumerate((sides, sides[::-1])):
        is_num = isinstance(b, exp.Literal) and not b.is_string
        if is_num and isinstance(a, exp.Column) and a.name.lower() not in INTEGRAL:
            cast = exp.TryCast(this=a, to=exp.DataType.build("DOUBLE"))
            node.set("this" if i == 0 else "expression", cast)
    return node


def _check_functions(tree: exp.Expression) -> None:
    """Name an unknown or unsupported function before its arguments are looked at."""
    for fn in tree.find_all(exp.Func):
        if isinstance(fn, exp.Anonymous):
            name = str(fn.this).upper()
            if name in UNSUPPORTED:
                raise Unsupported(f"not supported: {name}() ({UNSUPPORTED[name]})")
            if name not in FUNCTIONS:
                raise UnknownName("function", str(fn.this))
        elif isinstance(fn, (exp.Connector, exp.Binary, exp.Unary, exp.Predicate, *_SQL_FUNCS)):
            continue  # AND/OR, operators, aggregates, CASE, IF
        else:
            raise UnknownName("function", fn.sql_name(), "not an AQL function or operator")


def _regex(node: exp.Expression, options: Options) -> exp.Expression:
    pat = node.expression
    if isinstance(pat, exp.Literal) and pat.is_string:
        pat = exp.Literal.string(java_to_re2(pat.this))
    fn = "regexp_matches" if options.matches_search else "regexp_full_match"
    args = [node.this, pat]
    if isinstance(node, exp.RegexpILike):
        args.append(exp.Literal.string("i"))
    return exp.Anonymous(this=fn, expressions=args)


def _name_columns(tree: exp.Select, originals: list[exp.Expression], columns: list[str]) -> list[str]:
    """Alias every SELECT item as QRadar names it; returns the output column names."""
    names: list[str] = []
    items = []
    for item, orig in zip(tree.expressions, originals, strict=True):
        if isinstance(item, exp.Star):
            names.extend(columns)
            items.append(item)
            continue
        if isinstance(item, exp.Alias):
            names.append(item.alias)
            items.append(exp.alias_(item.this, item.alias, quoted=True))
            continue
        name = item.name if isinstance(item, exp.Column) else _name_of(orig)
        names.append(name)
        items.append(exp.alias_(item, name, quoted=True))
    tree.set("expressions", items)
    return names


def _first_values(tree: exp.Select, originals: list[exp.Expression], ctx: Context) -> None:
    """With GROUP BY, an item that is neither grouped nor aggregated takes the group's first value."""
    group = tree.args.get("group")
    if group is None and not any(_is_agg(o) for o in originals):
        return
    keys = {g.sql(dialect="duckdb") for g in (group.expressions if group else [])}
    items = []
    for item, orig in zip(tree.expressions, originals, strict=True):
        if isinstance(item, exp.Star) or _is_agg(orig):
            items.append(item)
            continue
        inner = item.this if isinstance(item, exp.Alias) else item
        if inner.sql(dialect="duckdb") in keys or not list(inner.find_all(exp.Column)):
            items.append(item)
            continue
        if ctx.has_starttime:
            first = exp.Anonymous(this="arg_min", expressions=[inner, exp.Column(this=_ident("starttime"))])
        else:
            first = exp.Anonymous(this="first", expressions=[inner])
        items.append(exp.alias_(first, item.alias, quoted=True) if isinstance(item, exp.Alias) else first)
    tree.set("expressions", items)


def _post_order(node: exp.Expression, fn) -> exp.Expression:
    """Rewrite children first, so function handlers see already-translated arguments."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _post_order(value, fn))
        elif isinstance(value, list):
            node.set(key, [_post_order(v, fn) if isinstance(v, exp.Expression) else v for v in value])
    return fn(node)


def _time_filter(
    tree: exp.Select, clause: TimeClause | None, now_ms: int, options: Options
) -> tuple[exp.Select, tuple[int | None, int | None]]:
    start: int | None
    stop: int | None
    if clause is None:
        if options.default_last_ms is None:
            return tree, (None, None)
        start, stop = now_ms - options.default_last_ms, now_ms + 1
    elif clause.last_ms is not None:
        start, stop = now_ms - clause.last_ms, now_ms + 1
    else:
        start = clause.start_ms if clause.start_rel is None else parse_datetime(clause.start_rel, now_ms)
        if clause.stop_rel is not None:
            stop = parse_datetime(clause.stop_rel, now_ms) + 1
        else:
            stop = clause.stop_ms if clause.stop_ms is not None else now_ms + 1
    col = exp.Column(this=_ident("starttime"))
    cond = exp.and_(
        exp.GTE(this=col, expression=exp.Literal.number(start)),
        exp.LT(this=col.copy(), expression=exp.Literal.number(stop)),
    )
    where = tree.args.get("where")
    tree.where(exp.and_(exp.Paren(this=where.this), cond) if where else cond, append=False, copy=False)
    return tree, (start, stop)
