"""A parsed AQL SELECT -> DuckDB SQL over the emulator's ``events`` view.

Semantics decided here (docs/aql.md explains each):
- strings: backslash literal; with ``backslash_escapes`` a ``\\\\`` in any string literal reads as
  one backslash (what the seed query's author meant);
- LIKE/ILIKE pass through (DuckDB has no default escape character either);
- MATCHES/IMATCHES are whole-string matches (Java ``String.matches``) unless ``matches_search``;
- identifiers resolve case-insensitively to the view's columns or to SELECT aliases; anything else
  is an error naming it; functions resolve through :data:`iisdetect.aql.functions.FUNCTIONS`;
- the time clause becomes a ``starttime`` range; with none, all data unless ``default_last_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from iisdetect.aql.dialect import TimeClause
from iisdetect.aql.errors import AqlError, UnknownName
from iisdetect.aql.functions import FUNCTIONS, Context

#: sqlglot's typed nodes that are AQL: aggregates, CASE and the regex operators.
_SQL_FUNCS = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg, exp.Case, exp.RegexpLike, exp.RegexpILike)


@dataclass(frozen=True)
class Options:
    backslash_escapes: bool = False
    matches_search: bool = False
    default_last_ms: int | None = None  # None: a query without a time clause sees all data


@dataclass(frozen=True)
class Translation:
    sql: str
    time_range: tuple[int | None, int | None]  # [start, stop) in epoch ms, None = open


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def translate(
    tree: exp.Expression, clause: TimeClause | None, columns: list[str], now_ms: int, options: Options
) -> Translation:
    if not isinstance(tree, exp.Select):
        raise AqlError("only SELECT queries are supported")
    by_lower = {c.lower(): c for c in columns}
    aliases = {a.alias.lower() for a in tree.expressions if isinstance(a, exp.Alias)}
    ctx = Context(now_ms=now_ms)
    tree = tree.copy()

    for fn in tree.find_all(exp.Func):  # name an unknown function before its arguments
        if isinstance(fn, exp.Anonymous):
            if str(fn.this).upper() not in FUNCTIONS:
                raise UnknownName("function", str(fn.this))
        elif isinstance(fn, (exp.Connector, exp.Binary, exp.Unary, exp.Predicate, *_SQL_FUNCS)):
            continue  # AND/OR, operators, aggregates, CASE
        elif not (isinstance(fn, exp.If) and isinstance(fn.parent, exp.Case)):
            raise UnknownName("function", fn.sql_name(), "not an AQL function or operator")

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            if node.table:
                raise UnknownName("property", node.sql(), "qualified names are not AQL")
            name = node.name
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
            fn = "regexp_matches" if options.matches_search else "regexp_full_match"
            args = [node.this, node.expression]
            if isinstance(node, exp.RegexpILike):
                args.append(exp.Literal.string("i"))
            return exp.Anonymous(this=fn, expressions=args)
        return node

    # GROUP BY / HAVING / ORDER BY name SELECT columns first (AQL), WHERE names properties first.
    # DuckDB binds GROUP BY/HAVING names to table columns first, so an alias there is replaced by
    # its (translated) expression; ORDER BY keeps the alias, which DuckDB binds first.
    later = {key: tree.args.get(key) for key in ("group", "having", "order")}
    for key in later:
        tree.set(key, None)
    tree = _post_order(tree, fix)
    by_alias = {a.alias.lower(): a.this for a in tree.expressions if isinstance(a, exp.Alias)}

    def fix_late(node: exp.Expression, substitute: bool) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in by_alias:
            return by_alias[node.name.lower()].copy() if substitute else exp.Column(this=_ident(node.name))
        return fix(node)

    for key, value in later.items():
        if value is not None:
            tree.set(key, _post_order(value, lambda n, k=key: fix_late(n, k != "order")))
    tree, rng = _time_filter(tree, clause, now_ms, options)
    return Translation(sql=tree.sql(dialect="duckdb"), time_range=rng)


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
        start = clause.start_ms
        stop = clause.stop_ms if clause.stop_ms is not None else now_ms + 1
    col = exp.Column(this=_ident("starttime"))
    cond = exp.and_(
        exp.GTE(this=col, expression=exp.Literal.number(start)),
        exp.LT(this=col.copy(), expression=exp.Literal.number(stop)),
    )
    where = tree.args.get("where")
    tree.where(exp.and_(exp.Paren(this=where.this), cond) if where else cond, append=False, copy=False)
    return tree, (start, stop)
