"""What a user query may do: one SELECT over ``events`` (or the empty ``flows``), nothing else.

Two layers. The AST check here refuses other statements (COPY, ATTACH, PRAGMA, SET, INSERT...),
a second statement, subqueries, joins, other tables and table functions such as ``read_csv``,
with a message naming what was refused. Underneath, the connection that runs the translated SQL
has external access disabled and its configuration locked (:func:`lock`), so even SQL that got
past the check could not read or write files or change settings.

Resources (../shared/reference/hostile-inputs.md finding 10: a 522 KB query of nested CONCATs used
5.4 GB on 101 events; 1,000 ORs or 300 parentheses ended in a RecursionError): a query is at most
``query_bytes`` long and ``nesting`` parentheses deep; DuckDB runs it under ``memory_limit`` and
``threads``, and it is interrupted after ``seconds`` (:data:`AQL_LIMITS`, docs/limits.md).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

import duckdb
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from iisdetect.aql.dialect import AQL
from iisdetect.aql.errors import QueryRefused
from iisdetect.errors import UsageError


@dataclass
class AqlLimits:
    query_bytes: int = 1 << 20  #: longest query text (the exported default ruleset with tuning is 263 KB)
    nesting: int = 64  #: deepest parentheses
    memory: int = 2 << 30  #: DuckDB memory_limit for loading and querying (it spills to disk beyond)
    threads: int = 2  #: DuckDB worker threads
    seconds: int = 300  #: a query still running after this is interrupted


AQL_LIMITS = AqlLimits()


def set_aql_limit(name: str, value: int) -> bool:
    """Set ``aql_<name>`` from ``--limit``; False when the name is not an AQL limit."""
    if name not in {f.name for f in fields(AqlLimits)}:
        return False
    setattr(AQL_LIMITS, name, value)
    return True


def read_query_file(path: str) -> str:
    """``--file``: at most ``query_bytes`` (``/dev/zero`` is refused, not read forever), UTF-8."""
    cap = AQL_LIMITS.query_bytes
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(cap + 1) if sys.stdin is not None else b""
        else:
            with Path(path).open("rb") as fh:
                raw = fh.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"cannot read query file {path}: {exc.strerror or exc}") from None
    if len(raw) > cap:
        raise UsageError(f"query file {path}: longer than {cap} bytes (limit aql_query_bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"query file {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def limit_resources(con: duckdb.DuckDBPyConnection) -> None:
    """Memory and thread bounds on the connection, set before loading (and locked by :func:`lock`)."""
    con.execute(f"SET memory_limit = '{int(AQL_LIMITS.memory) >> 20}MiB'")
    con.execute(f"SET threads = {int(AQL_LIMITS.threads)}")


ALLOWED_TABLES = {"events", "flows"}
#: DuckDB functions that touch files or the catalog; named in the refusal.
FILE_FUNCTIONS = {
    "read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_json_objects", "read_ndjson",
    "read_parquet", "parquet_scan", "read_text", "read_blob", "glob", "sniff_csv", "read_xlsx",
    "parquet_metadata", "duckdb_settings", "duckdb_tables", "getenv", "current_setting",
}  # fmt: skip


def precheck(query: str) -> None:
    """Token-level: bounded size and nesting, the first word SELECT, one statement only."""
    if len(query.encode("utf-8", "surrogatepass")) > AQL_LIMITS.query_bytes:
        raise QueryRefused(f"query longer than {AQL_LIMITS.query_bytes} bytes (limit aql_query_bytes)")
    try:
        toks = AQL().tokenize(query)
    except TokenError as exc:
        raise QueryRefused(f"cannot tokenize query: {exc}") from exc
    if not toks:
        raise QueryRefused("empty query")
    if toks[0].token_type != TokenType.SELECT:
        raise QueryRefused(f"only SELECT queries are allowed, not {toks[0].text.upper()}")
    depth = deepest = 0
    for tok in toks:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
            deepest = max(deepest, depth)
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
    if deepest > AQL_LIMITS.nesting:
        raise QueryRefused(f"parentheses nested {deepest} deep (limit aql_nesting {AQL_LIMITS.nesting})")
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
