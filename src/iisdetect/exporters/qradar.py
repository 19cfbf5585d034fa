"""Compiled rules (IR) -> one QRadar AQL query with the seed's column layout.

Every condition is rendered from the IR; nothing is written by hand. Property names come from
``mapping/qradar.yaml`` (the emulator's table uses the same file, so the exported query runs
unchanged in ``iisdetect aql``).

AQL string rules applied (feasibility.md 1.2): single quotes are doubled; backslashes are written
once (a backslash is literal in AQL); LIKE has no escape character, so a value containing ``%`` or
``_`` is exported as MATCHES/IMATCHES with a whole-string regex instead. Case-insensitive Sigma
matches use ILIKE/IMATCHES, ``|cased`` ones LIKE/MATCHES.

SQL's three-valued logic differs from the native engine, where a missing field simply fails a
test: under NOT, each test is guarded with ``prop IS NOT NULL AND ...`` so that NOT of a test on a
missing field is true, as natively.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iisdetect.engine import ir
from iisdetect.errors import IisdetectError
from iisdetect.mapping.qradar import QRadarMapping, load_mapping

SEED_SELECT = (
    "DATEFORMAT(starttime, 'yyyy-MM-dd HH:mm:ss') AS event_time",
    "LOGSOURCENAME(logsourceid) AS log_source",
    "username",
    "sourceip AS host_ip",
    "QIDNAME(qid) AS event_name",
    '"Event ID" AS "EventID"',
)


class ExportError(IisdetectError):
    """A rule uses something AQL cannot express."""


def aql_string(value: str) -> str:
    """An AQL string literal: quotes doubled, backslashes as they are."""
    return "'" + value.replace("'", "''") + "'"


def prop(name: str) -> str:
    """A property reference: bare when a plain identifier, else double-quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


_KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "ilike", "matches", "order", "group"}


class Renderer:
    def __init__(self, mapping: QRadarMapping | None = None) -> None:
        self.mapping = mapping or load_mapping()

    def field(self, name: str) -> str:
        expr = (self.mapping.export.get("expressions") or {}).get(name)
        return str(expr) if expr else prop(self.mapping.ibm_name(name))

    # -- leaves ---------------------------------------------------------------------------
    def like(self, column: str, parts: Sequence[object], cased: bool) -> str:
        """``parts``: literal strings and ir.STAR / ir.ONE wildcards, matched against the whole value."""
        literal = "".join(p for p in parts if isinstance(p, str))
        if "%" in literal or "_" in literal:
            rx = "".join(re.escape(p) if isinstance(p, str) else (".*" if p is ir.STAR else ".") for p in parts)
            return f"{column} {'MATCHES' if cased else 'IMATCHES'} {aql_string('(?s)' + rx)}"
        pat = "".join(p if isinstance(p, str) else ("%" if p is ir.STAR else "_") for p in parts)
        return f"{column} {'LIKE' if cased else 'ILIKE'} {aql_string(pat)}"

    def leaf(self, node: ir.Node) -> str:
        if isinstance(node, ir.Str):
            col = self.field(node.field)
            parts: list[object] = [node.value]
            if node.op in ("endswith", "contains"):
                parts.insert(0, ir.STAR)
            if node.op in ("startswith", "contains"):
                parts.append(ir.STAR)
            return self.like(col, parts, node.cased)
        if isinstance(node, ir.Glob):
            return self.like(self.field(node.field), node.parts, node.cased)
        if isinstance(node, ir.Regex):
            # Sigma regexes search; AQL MATCHES is a whole-string match: pad with any-text.
            rx = f"(?s:.*)(?:{node.pattern})(?s:.*)"
            op = "IMATCHES" if node.ignore_case else "MATCHES"
            return f"{self.field(node.field)} {op} {aql_string(rx)}"
        if isinstance(node, ir.Num):
            return f"{self.field(node.field)} = {aql_string(str(node.value))}"
        if isinstance(node, ir.Null):
            col = self.field(node.field)
            return f"({col} IS NULL OR {col} = '')"
        if isinstance(node, ir.Cidr):
            return f"INCIDR({aql_string(node.network)}, {self.field(node.field)})"
        raise ExportError(f"cannot export IR node {type(node).__name__}")

    # -- trees ----------------------------------------------------------------------------
    def condition(self, node: ir.Node, negated: bool = False) -> str:
        if isinstance(node, ir.And | ir.Or):
            if not node.items:
                return "1 = 1" if isinstance(node, ir.And) else "1 = 0"
            joiner = " AND " if isinstance(node, ir.And) else " OR "
            inner = [self.condition(i, negated) for i in node.items]
            return inner[0] if len(inner) == 1 else "(" + joiner.join(inner) + ")"
        if isinstance(node, ir.Not):
            return f"NOT ({self.condition(node.item, not negated)})"
        if isinstance(node, ir.Const):
            return "1 = 1" if node.value else "1 = 0"
        text = self.leaf(node)
        if negated and not isinstance(node, ir.Null):
            return f"({self.field(node.field)} IS NOT NULL AND {text})"
        return text

    def source(self, src: ir.Source) -> str:
        tests = []
        for tmpl, values in (("channel_test", src.channels), ("provider_test", src.providers)):
            for v in values:
                needle = self.mapping.export[tmpl].format(value=v)
                tests.append(self.like("UTF8(payload)", [ir.STAR, needle, ir.STAR], cased=False))
        out = "(" + " OR ".join(tests) + ")" if len(tests) > 1 else (tests[0] if tests else "1 = 1")
        if src.event_ids:
            ids = ", ".join(aql_string(str(i)) for i in src.event_ids)
            out = f'{out} AND "Event ID" IN ({ids})'
        return out

    def rule(self, rule: ir.CompiledRule) -> str:
        # The condition first: DuckDB evaluates the (costly) payload test only on rows that pass it.
        parts = [f"({self.condition(v.condition)} AND {self.source(v.source)})" for v in rule.variants]
        if not parts:
            return "1 = 0"
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def export_rules(
    rules: Sequence[ir.CompiledRule], mapping: QRadarMapping | None = None, last: str | None = None
) -> str:
    """One AQL query returning the seed's columns for every event any rule matches.

    ``detection_type`` is a CASE over the rules in order: an event that several rules match gets
    the first one's (the native engine reports every match). ``last`` (e.g. ``24 HOURS``) adds a
    trailing time clause; without it QRadar searches its default of the last 5 minutes.
    """
    r = Renderer(mapping)
    if not rules:
        raise ExportError("no rules to export")
    conds = [(rule, r.rule(rule)) for rule in rules]
    case = "\n".join(f"    WHEN {c} THEN {aql_string(rule.detection_type)}" for rule, c in conds)
    cols = [*SEED_SELECT, f"CASE\n{case}\n    ELSE NULL\n  END AS detection_type"]
    for out_name, win in r.mapping.export_columns().items():
        cols.append(f"{r.field(win)} AS {prop(out_name)}")
    where = "\n   OR ".join(c for _, c in conds)
    dtype = r.mapping.default_devicetype
    query = (
        "SELECT\n  " + ",\n  ".join(cols) + f"\nFROM events\nWHERE devicetype = {dtype}\n  AND (\n    "
        + where + "\n  )\nORDER BY starttime DESC"
    )  # fmt: skip
    if last:
        query += f"\nLAST {last}"
    return query + "\n"
