"""A ruleset as ONE SQL query over the lake table, for DuckDB and Spark SQL (OSS and Databricks).

Rendered from the IR, like every export, so the lake and hunt agree by construction; the tests run
both and compare (rule, record) pairs. Choices measured in ``spark.md``/``exports.md``:

- string tests are ``lower(f) = 'v'`` and ``starts_with``/``ends_with``/``contains`` (no LIKE
  escaping at all); wildcards in the middle are ``LIKE ... ESCAPE '#'`` (backslash is an ordinary
  character then, ``%``/``_``/``#`` in values are escaped), never ``.*``-prefixed regexes;
- every leaf is wrapped in ``coalesce(..., false)``: a missing field is false, so ``NOT`` over it
  is true, exactly as in the Python engine (SQL's NOT NULL would drop the row);
- EventID is compared as an integer column; other numbers through ``try_cast``;
- System names (EventID, Channel...) read the System columns, never an EventData field of that name;
  ``null`` is ``IS NULL`` (absent), numbers match decimal integers only, as natively;
- EventData fields are read from the map column (``data['X']``, ``try_element_at`` on Spark),
  so a field no file has is NULL instead of an unknown-column error.

The query returns every canonical column of each matching row plus ``matched`` (untuned rule
ids) and ``kept`` (tuned rule ids): hunt rebuilds the alerts and the suppression accounting.
"""

from __future__ import annotations

from collections.abc import Sequence

from iisdetect.engine import ir, wildcards
from iisdetect.errors import IisdetectError
from iisdetect.lake.schema import LakeSchema, lake_schema
from iisdetect.model.event import MULTI_FIELD, SYSTEM_FIELDS


def _fields(node: ir.Node) -> set[str]:
    out: set[str] = set()
    ir._collect_fields(node, out)
    return out


DIALECTS = ("duckdb", "spark")
#: export targets -> SQL dialect (Databricks runs the Spark SQL unchanged)
LAKE_TARGETS = {"spark-sql": "spark", "databricks": "spark", "duckdb": "duckdb"}


class LakeSqlError(IisdetectError):
    """A rule uses something the SQL targets cannot express (named in the message)."""


class SqlRenderer:
    def __init__(self, dialect: str, table: str = "events", schema: LakeSchema | None = None) -> None:
        if dialect not in DIALECTS:
            raise LakeSqlError(f"unknown SQL dialect {dialect!r}")
        self.dialect, self.table = dialect, table
        self.schema = schema or lake_schema()

    # -- literals and fields -------------------------------------------------------------
    def string(self, value: str) -> str:
        if self.dialect == "spark":  # Spark unescapes backslash sequences in literals (spark.md 1.3)
            esc = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
            return f"'{esc}'"
        return "'" + value.replace("'", "''") + "'"

    def ident(self, name: str) -> str:
        return f"`{name}`" if self.dialect == "spark" else '"' + name.replace('"', '""') + '"'

    def data_field(self, name: str) -> str:
        m = self.ident(self.schema.map_column)
        if self.dialect == "spark":
            return f"try_element_at({m}, {self.string(name)})"
        return f"{m}[{self.string(name)}]"

    def field(self, name: str) -> str:
        """The value hunt's evaluator reads: the System field of that name, else EventData."""
        attr = SYSTEM_FIELDS.get(name)
        if attr is None:
            if name == MULTI_FIELD:
                raise LakeSqlError("the SQL targets cannot express Sigma's multi-valued field 'Data'")
            return self.data_field(name)
        col = self.ident(self.schema.column_of(attr))
        return f"CAST({col} AS {'STRING' if self.dialect == 'spark' else 'VARCHAR'})"

    # -- leaves ---------------------------------------------------------------------------
    def _fn(self, op: str) -> str:
        if self.dialect == "spark":
            return {"startswith": "startswith", "endswith": "endswith", "contains": "contains"}[op]
        return {"startswith": "starts_with", "endswith": "ends_with", "contains": "contains"}[op]

    def like(self, expr: str, parts: Sequence[object]) -> str:
        return f"{expr} LIKE {self.string(wildcards.to_like(parts, escape='#') or '')} ESCAPE '#'"

    def leaf(self, node: ir.Node) -> str:
        if isinstance(node, ir.Str):
            f = self.field(node.field)
            expr, value = (f, node.value) if node.cased else (f"lower({f})", node.value.lower())
            if node.op == "eq":
                return f"{expr} = {self.string(value)}"
            return f"{self._fn(node.op)}({expr}, {self.string(value)})"
        if isinstance(node, ir.Glob):
            f = self.field(node.field)
            if node.cased:
                return self.like(f, node.parts)
            return self.like(f"lower({f})", [p.lower() if isinstance(p, str) else p for p in node.parts])
        if isinstance(node, ir.Regex):
            f = self.field(node.field)
            if self.dialect == "spark":
                return f"{f} RLIKE {self.string(('(?i)' if node.ignore_case else '') + node.pattern)}"
            flags = ", 'i'" if node.ignore_case else ""
            return f"regexp_matches({f}, {self.string(node.pattern)}{flags})"
        if isinstance(node, ir.Num):  # decimal integers only, as natively ('010' is not 10)
            f = self.field(node.field)
            if self.dialect == "spark":
                decimal = f"{f} RLIKE {self.string('^-?(0|[1-9][0-9]*)$')}"
            else:
                decimal = f"regexp_full_match({f}, {self.string('-?(0|[1-9][0-9]*)')})"
            return f"({decimal} AND try_cast({f} AS BIGINT) = {node.value})"
        if isinstance(node, ir.Null):  # null means absent
            return f"{self.field(node.field)} IS NULL"
        if isinstance(node, ir.FieldRef):  # NULL when either is absent: coalesce() makes it false
            a, b = f"lower({self.field(node.field)})", f"lower({self.field(node.other)})"
            return f"{a} = {b}" if node.op == "eq" else f"{self._fn(node.op)}({a}, {b})"
        raise LakeSqlError(f"the SQL targets cannot express IR node {type(node).__name__}")

    # -- trees ----------------------------------------------------------------------------
    def condition(self, node: ir.Node) -> str:
        if isinstance(node, ir.And | ir.Or):
            if not node.items:
                return "TRUE" if isinstance(node, ir.And) else "FALSE"
            inner = [self.condition(i) for i in node.items]
            joiner = " AND " if isinstance(node, ir.And) else " OR "
            return inner[0] if len(inner) == 1 else "(" + joiner.join(inner) + ")"
        if isinstance(node, ir.Not):
            return f"NOT ({self.condition(node.item)})"
        if isinstance(node, ir.Const):
            return "TRUE" if node.value else "FALSE"
        if isinstance(node, ir.TimeWindow):  # a maintenance window, as time (not date regexes)
            return f"coalesce({self.window(node)}, FALSE)"
        return f"coalesce({self.leaf(node)}, FALSE)"

    def window(self, node: ir.TimeWindow) -> str:
        """The evaluator's ``_window_pred`` in SQL: canonical ISO times compare as strings; the weekday
        (0 = Monday) and the minute of the day come from the text, so the session time zone never matters."""
        v = self.field(node.field)
        iso = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
        if self.dialect == "spark":
            parts = [f"{v} RLIKE {self.string(iso)}"]
            weekday = f"weekday(try_cast(substr({v}, 1, 10) AS DATE))"
        else:
            parts = [f"regexp_matches({v}, {self.string(iso)})"]
            weekday = f"(isodow(try_cast(substr({v}, 1, 10) AS DATE)) - 1)"
        if node.start:
            parts.append(f"substr({v}, 1, 19) >= {self.string(node.start[:19])}")
        if node.end:
            parts.append(f"substr({v}, 1, 19) < {self.string(node.end[:19])}")
        if node.days:
            parts.append(f"{weekday} IN ({', '.join(str(d) for d in node.days)})")
            minute = f"(CAST(substr({v}, 12, 2) AS INT) * 60 + CAST(substr({v}, 15, 2) AS INT))"
            if node.day_start > 0:
                parts.append(f"{minute} >= {node.day_start}")
            if node.day_end < 1440:
                parts.append(f"{minute} < {node.day_end}")
        return "(" + " AND ".join(parts) + ")"

    def source(self, src: ir.Source) -> str:
        tests = []
        if src.channels:
            values = ", ".join(self.string(c.lower()) for c in src.channels)
            tests.append(f"lower({self.ident(self.schema.column_of('channel'))}) IN ({values})")
        if src.providers:
            values = ", ".join(self.string(p.lower()) for p in src.providers)
            tests.append(f"lower({self.ident(self.schema.column_of('provider'))}) IN ({values})")
        out = "(" + " OR ".join(tests) + ")" if tests else "FALSE"
        if src.event_ids:
            ids = ", ".join(str(i) for i in src.event_ids)
            out = f"{out} AND {self.ident(self.schema.column_of('event_id'))} IN ({ids})"
        return out

    def rule(self, rule: ir.CompiledRule) -> str:
        for v in rule.variants:
            computed = {name for name, _ in v.source.derived} & _fields(v.condition)
            if computed:
                raise LakeSqlError(
                    f"rule {rule.title!r}: fields {', '.join(sorted(computed))} are computed by the native "
                    f"engine on {v.source.name} events; the SQL targets cannot express them"
                )
        parts = [f"({self.source(v.source)} AND {self.condition(v.condition)})" for v in rule.variants]
        if not parts:
            return "FALSE"
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def id_list(self, rules: Sequence[ir.CompiledRule]) -> str:
        cases = ",\n      ".join(f"CASE WHEN {self.rule(r)} THEN {self.string(r.id)} END" for r in rules)
        if self.dialect == "spark":
            return f"filter(array(\n      {cases}\n    ), x -> x IS NOT NULL)"
        return f"list_filter([\n      {cases}\n    ], lambda x: x IS NOT NULL)"


def expressible(rules: Sequence[ir.CompiledRule], dialect: str) -> tuple[list[ir.CompiledRule], list[str]]:
    """(the rules the SQL targets can express, one line naming each that they cannot and why)."""
    r = SqlRenderer(dialect)
    ok: list[ir.CompiledRule] = []
    refused: list[str] = []
    for rule in rules:
        try:
            r.rule(rule)
        except LakeSqlError as exc:
            msg = str(exc)
            refused.append(msg if msg.startswith("rule ") else f"rule {rule.title!r} ({rule.id}): {msg}")
        else:
            ok.append(rule)
    return ok, refused


def ruleset_query(
    rules: Sequence[ir.CompiledRule],
    tuned: Sequence[ir.CompiledRule] | None,
    dialect: str,
    table: str = "events",
    since: str = "",
    until: str = "",
) -> str:
    """One query: the canonical columns of every row some rule matches, ``matched`` and ``kept`` ids.

    ``tuned`` are the same rules with tuning compiled in (None: no tuning, ``kept`` = ``matched``).
    ``since``/``until`` are canonical ISO strings (inclusive), as hunt's ``--since/--until``.
    """
    if not rules:
        raise LakeSqlError("no rules to export")
    r = SqlRenderer(dialect, table)
    cols = ", ".join(r.ident(c) for c in (*r.schema.system, r.schema.map_column))
    matched = r.id_list(rules)
    kept = r.id_list(tuned) if tuned is not None else "matched"
    time_col = r.ident(r.schema.column_of("time_created"))
    where = []
    if since:
        where.append(f"{time_col} >= {r.string(since)}")
    if until:
        where.append(f"{time_col} <= {r.string(until)}")
    scan = f"SELECT {cols}, {matched} AS matched FROM {r.ident(table)}"
    if where:
        scan += " WHERE " + " AND ".join(where)
    size = "size" if dialect == "spark" else "len"
    # no ORDER BY: on Spark a global sort is a shuffle stage of its own; hunt orders the hits
    return f"SELECT {cols}, matched, {kept} AS kept\nFROM (\n  {scan}\n) AS hits\nWHERE {size}(matched) > 0\n"
