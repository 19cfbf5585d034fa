"""What a user query may do: one SELECT over ``events`` (or the empty ``flows``), nothing else.

Two layers. The AST check here refuses other statements (COPY, ATTACH, PRAGMA, SET, INSERT...),
a second statement, subqueries, joins, other tables and table functions such as ``read_csv``,
with a message naming what was refused. Underneath, the connection that runs the translated SQL
has external access disabled and its configuration locked (:func:`lock`), so even SQL that got
past the check could not read or write files or change settings.
"""

from __future__ import annotations

import duckdb
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from iisdetect.aql.dialect import AQL
from iisdetect.aql.errors import QueryRefused

ALLOWED_TABLES = {"events", "flows"}
#: DuckDB functions that touch files or the catalog; named in the refusal.
FILE_FUNCTIONS = {
    "read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_json_objects", "read_ndjson",
    "read_parquet", "parquet_scan", "read_text", "read_blob", "glob", "sniff_csv", "read_xlsx",
    "parquet_metadata", "duckdb_settings", "duckdb_tables", "getenv", "current_setting",
}  # fmt: skip


def precheck(query: str) -> None:
    """Token-level: the first word must be SELECT and there must be one statement only."""
    try:
        toks = AQL().tokenize(query)
    except TokenError as exc:
        raise QueryRefused(f"cannot tokenize query: {exc}") from exc
    if not toks:
        raise QueryRefused("empty query")
    if toks[0].token_type != TokenType.SELECT:
        raise QueryRefused(f"only SELECT queries are allowed, not {toks[0].text.upper()}")
    for i, tok in enumerate(toks):
        if tok.token_type == TokenType.SEMICOLON and i != len(toks) - 1:
            raise QueryRefused("only one statement is allowed (found ';' followed by more text)")


def check(trees: list[exp.Expression]) -> exp.Select:
    """AST-level: a single SELECT whose only table is events or flows."""
    if len(trees) != 1:
        raise QueryRefused("only one statement is allowed")
    tree = trees[0]
    if not isinstance(tree, exp.Select):
        raise QueryRefused(f"only SELECT queries are allowed, not {type(tree).__name__.upper()}")
    for fn in tree.find_all(exp.Anonymous, exp.Func):
        name = (fn.name if isinstance(fn, exp.Anonymous) else fn.sql_name()).lower()
        if name in FILE_FUNCTIONS:
            raise QueryRefused(f"function {name}() is not allowed: queries may read only events or flows")
    selects = list(tree.find_all(exp.Select))
    if len(selects) > 1 or tree.find(exp.Subquery, exp.Union, exp.Lateral):
        raise QueryRefused("subqueries are not allowed: a query reads events or flows directly")
    if tree.args.get("joins"):
        raise QueryRefused("joins are not allowed: a query reads events or flows only")
    if tree.args.get("with_") or tree.args.get("with") or tree.args.get("into"):
        raise QueryRefused("WITH and INTO are not allowed")
    tables = list(tree.find_all(exp.Table))
    if len(tables) != 1:
        raise QueryRefused("a query reads exactly one table: FROM events or FROM flows")
    table = tables[0]
    if not isinstance(table.this, exp.Identifier) or table.args.get("db") or table.args.get("catalog"):
        raise QueryRefused(f"FROM {table.sql()} is not allowed: use FROM events or FROM flows")
    if table.name.lower() not in ALLOWED_TABLES:
        raise QueryRefused(f"table {table.name!r} is not allowed: use FROM events or FROM flows")
    return tree


def lock(con: duckdb.DuckDBPyConnection) -> None:
    """No file access, no setting changes, from now on (cannot be undone on this connection)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
