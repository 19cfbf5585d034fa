r"""Compiled rules (IR) -> QRadar AQL with the seed's column layout: one query, or one per rule.

Every condition is rendered from the IR, and written once: ``detection_type`` is a CASE over the
rules and the WHERE keeps the rows where it is not NULL (IBM allows an existing alias in WHERE:
https://www.ibm.com/docs/en/qsip/7.6.0?topic=structure-quotation-marks). Property names come from
``mapping/qradar.yaml`` (the emulator's table uses the same file, so the exported query runs
unchanged in ``iisdetect aql``); :func:`iisdetect.exporters.qradar_properties.definitions` lists the
custom event properties a query needs.

AQL string rules applied (feasibility.md 1.2): single quotes are doubled; backslashes are written
once (a backslash is literal in AQL); LIKE has no escape character, so a value containing ``%`` or
``_`` is exported as MATCHES/IMATCHES with an anchored regex (``(?s)^...\z``), which means the same
whether QRadar's MATCHES matches the whole string or searches (IBM does not say). Case-insensitive
Sigma matches use ILIKE/IMATCHES, ``|cased`` ones LIKE/MATCHES.

SQL's three-valued logic differs from the native engine, where a missing field simply fails a
test: under NOT, each test is guarded with ``prop IS NOT NULL AND ...`` so that NOT of a test on a
missing field is true, as natively.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iisdetect.engine import ir, wildcards
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
        self.used: dict[str, set[str]] = {}  # property named by the query -> Windows fields it stands for

    def field(self, name: str) -> str:
        expr = (self.mapping.export.get("expressions") or {}).get(name)
        if expr:
            return str(expr)
        ibm = self.mapping.ibm_name(name)
        self.used.setdefault(ibm, set()).add(name)
        return prop(ibm)

    # -- leaves ---------------------------------------------------------------------------
    def like(self, column: str, parts: Sequence[object], cased: bool) -> str:
        """``parts``: literal strings and ir.STAR / ir.ONE wildcards, matched against the whole value."""
        pat = wildcards.to_like(parts)
        if pat is None:  # a literal % or _: LIKE has no escape in AQL, use an anchored whole-string regex
            rx = wildcards.to_regex(parts)
            return f"{column} {'MATCHES' if cased else 'IMATCHES'} {aql_string('(?s)^' + rx + chr(92) + 'z')}"
        return f"{column} {'LIKE' if cased else 'ILIKE'} {aql_string(pat)}"

    def leaf(self, node: ir.Node) -> str:
        if isinstance(node, ir.Str):
            return self.like(self.field(node.field), wildcards.str_parts(node), node.cased)
        if isinstance(node, ir.Glob):
            return self.like(self.field(node.field), node.parts, node.cased)
        if isinstance(node, ir.Regex):
            # Sigma regexes search; AQL MATCHES is a whole-string match: pad with any-text.
            rx = f"(?s:.*)(?:{node.pattern})(?s:.*)"
            op = "IMATCHES" if node.ignore_case else "MATCHES"
            return f"{self.field(node.field)} {op} {aql_string(rx)}"
        if isinstance(node, ir.Num):
            return f"{self.field(node.field)} = {aql_string(str(node.value))}"
        if isinstance(node, ir.Null):  # Sigma null: the field is absent ('' is a value)
            return f"{self.field(node.field)} IS NULL"
        if isinstance(node, ir.Cidr):
            return f"INCIDR({aql_string(node.network)}, {self.field(node.field)})"
        if isinstance(node, ir.FieldRef):  # case-insensitive, false when either field is absent
            fa, fb = self.field(node.field), self.field(node.other)
            a, b = f"LOWER({fa})", f"LOWER({fb})"
            tests = {
                "eq": f"{a} = {b}",
                "startswith": f"SUBSTRING({a}, 0, STRLEN({b})) = {b}",
                "endswith": f"STRLEN({a}) >= STRLEN({b}) AND "
                f"SUBSTRING({a}, STRLEN({a}) - STRLEN({b}), STRLEN({b})) = {b}",
            }
            if node.op not in tests:  # AQL documents no substring-position function
                raise ExportError(f"AQL cannot test whether {node.field} contains the value of {node.other}")
            test = tests[node.op]
            return f"({fa} IS NOT NULL AND {fb} IS NOT NULL AND {test})"
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
        if isinstance(node, ir.TimeWindow):
            return window_aql(node)
        text = self.leaf(node)
        if negated and not isinstance(node, ir.Null | ir.FieldRef):
            return f"({self.field(node.field)} IS NOT NULL AND {text})"
        return text

    def source(self, src: ir.Source) -> str:
        """The variant's channel/provider, one payload test per collector shape, and its EventIDs."""
        tests = []
        for key, values in (("channel_tests", src.channels), ("provider_tests", src.providers)):
            for v in values:
                for tmpl in self.mapping.export[key]:
                    tests.append(self.like("UTF8(payload)", [ir.STAR, str(tmpl).format(value=v), ir.STAR], cased=False))
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


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def window_aql(node: ir.TimeWindow) -> str:
    """A maintenance window on ``starttime`` (epoch ms, never NULL, so no guard under NOT): a range
    compare, the weekday by DATEFORMAT 'EEE' (English day names, UTC as DATEFORMAT renders here) and
    the time of day as a short regex on 'HH:mm'."""
    from iisdetect.exporters.timewin import epoch_ms, hhmm_range_regex

    parts = []
    if node.start:
        parts.append(f"starttime >= {epoch_ms(node.start)}")
    if node.end:
        parts.append(f"starttime < {epoch_ms(node.end)}")
    if node.days:
        days = ", ".join(aql_string(_WEEKDAYS[d]) for d in node.days)
        parts.append(f"DATEFORMAT(starttime, 'EEE') IN ({days})")
        if (node.day_start, node.day_end) != (0, 1440):
            rx = hhmm_range_regex(node.day_start, node.day_end)
            parts.append(f"DATEFORMAT(starttime, 'HH:mm') MATCHES {aql_string(rx)}")
    return "(" + " AND ".join(parts) + ")" if parts else "1 = 1"


def _select(r: Renderer, detection_type: str) -> list[str]:
    cols = [*SEED_SELECT, detection_type]
    for out_name, win in r.mapping.export_columns().items():
        cols.append(f"{r.field(win)} AS {prop(out_name)}")
    return cols


def _query(r: Renderer, cols: list[str], where: str, last: str | None) -> str:
    dtype = r.mapping.default_devicetype
    query = (
        "SELECT\n  " + ",\n  ".join(cols) + f"\nFROM events\nWHERE devicetype = {dtype}\n  AND " + where
        + "\nORDER BY starttime DESC"
    )  # fmt: skip
    if last:
        query += f"\nLAST {last}"
    return query + "\n"


def export_rules(
    rules: Sequence[ir.CompiledRule],
    mapping: QRadarMapping | None = None,
    last: str | None = None,
    renderer: Renderer | None = None,
) -> str:
    """One AQL query returning the seed's columns for every event any rule matches.

    ``detection_type`` is a CASE over the rules in order: an event that several rules match gets
    the first one's (the native engine reports every match). Each condition is written once; the
    WHERE keeps the rows whose detection_type is not NULL. ``last`` (e.g. ``24 HOURS``) adds a
    trailing time clause; without it QRadar searches its default of the last 5 minutes.
    """
    r = renderer or Renderer(mapping)
    if not rules:
        raise ExportError("no rules to export")
    case = "\n".join(f"    WHEN {r.rule(rule)} THEN {aql_string(rule.detection_type)}" for rule in rules)
    cols = _select(r, f"CASE\n{case}\n    ELSE NULL\n  END AS detection_type")
    return _query(r, cols, "detection_type IS NOT NULL", last)


def export_rule(
    rule: ir.CompiledRule,
    mapping: QRadarMapping | None = None,
    last: str | None = None,
    renderer: Renderer | None = None,
) -> str:
    """One rule's query (``--split``): the same columns, its condition in the WHERE, written once."""
    r = renderer or Renderer(mapping)
    cols = _select(r, f"{aql_string(rule.detection_type)} AS detection_type")
    return _query(r, cols, "(\n    " + r.rule(rule) + "\n  )", last)
