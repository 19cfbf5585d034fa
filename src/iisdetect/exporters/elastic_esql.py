"""Compiled rules -> Kibana detection rules (NDJSON) of type ES|QL, same ECS shape as the EQL export.

ES|QL (ES "ES|QL functions and operators" reference): ``==`` and ``STARTS_WITH``/``ENDS_WITH`` are
case-sensitive, so case-insensitive tests lower the field (``TO_LOWER(f) == "v"``; contains is
``LOCATE(TO_LOWER(f), "v") > 0``); globs and regexes are ``RLIKE`` with the Lucene translation
(whole-value match), on ``TO_LOWER(f)`` with a lower-cased pattern when case-insensitive (the
translation emits only literals, classes and operators, so lowering it is exact). A comparison
with a missing field is null and ``NOT null`` is null (dropped), hence ``f IS NOT NULL AND`` guards
under NOT. Maintenance windows render natively: ``@timestamp`` bounds and
``DATE_EXTRACT("DAY_OF_WEEK" | "MINUTE_OF_DAY", @timestamp)`` (ISO weekday, Monday = 1; UTC).
A non-aggregating rule query needs ``METADATA _id, _index, _version`` for alert deduplication.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from iisdetect.engine import ir
from iisdetect.exporters.base import ExportReport, require_rules
from iisdetect.exporters.elastic_eql import EqlRenderer, eql_string, kibana_rule
from iisdetect.mapping.targets import TargetMapping, load_target_mapping

esql_string = eql_string  # same escapes: \\ \" \n \r \t


class EsqlRenderer(EqlRenderer):
    target = "elastic-esql"
    TRUE = "true"
    FALSE = "false"
    AND = " AND "
    OR = " OR "

    def negate(self, text: str) -> str:
        return f"NOT ({text})"

    def _expr(self, expr: str) -> tuple[str, str]:
        if expr == "@user_split":
            us = self.mapping.raw["user_split"]
            return f'CONCAT({us["domain"]}, "\\\\", {us["name"]})', us["name"]
        return _ident(expr), _ident(expr)

    def sha256_test(self, path: str, hex_value: str) -> str:
        return f"TO_LOWER({_ident(path)}) == {esql_string(hex_value)}"

    def str_test(self, f: str, node: ir.Str) -> str:
        col, v = (f, node.value) if node.cased else (f"TO_LOWER({f})", node.value.lower())
        if node.op == "eq":
            return f"{col} == {esql_string(v)}"
        if node.op == "contains":
            return f"LOCATE({col}, {esql_string(v)}) > 0"
        fn = "STARTS_WITH" if node.op == "startswith" else "ENDS_WITH"
        return f"{fn}({col}, {esql_string(v)})"

    def fieldref(self, node: ir.FieldRef, expr: str, other: str, src: ir.Source) -> str:
        (a, na), (b, nb) = self._expr(expr), self._expr(other)
        la, lb = f"TO_LOWER({a})", f"TO_LOWER({b})"
        test = {"eq": f"{la} == {lb}", "startswith": f"STARTS_WITH({la}, {lb})",
                "endswith": f"ENDS_WITH({la}, {lb})", "contains": f"LOCATE({la}, {lb}) > 0"}[node.op]  # fmt: skip
        return f"({na} IS NOT NULL AND {nb} IS NOT NULL AND {test})"

    def null_test(self, f: str) -> str:
        return f'({f} IS NULL OR {f} == "")'

    def cidr_test(self, f: str, network: str) -> str:
        return f"CIDR_MATCH(TO_IP({f}), {esql_string(network)})"

    def _regex(self, f: str, body: str, cased: bool) -> str:
        self.check_regex_length(body)
        return f"{f} RLIKE {esql_string(body)}" if cased else f"TO_LOWER({f}) RLIKE {esql_string(body.lower())}"

    def guard(self, node: ir.Node, expr: str, text: str, src: ir.Source) -> str:
        path = expr.split(":", 1)[1] if expr.startswith("@sha256:") else expr
        return f"({self._expr(path)[1]} IS NOT NULL AND {text})"

    def window(self, node: ir.TimeWindow, src: ir.Source) -> str:
        t = "@timestamp"
        parts = []
        if node.start:
            parts.append(f'{t} >= TO_DATETIME("{node.start}Z")')
        if node.end:
            parts.append(f'{t} < TO_DATETIME("{node.end}Z")')
        if node.days:
            parts.append(f'DATE_EXTRACT("DAY_OF_WEEK", {t}) IN ({", ".join(str(d + 1) for d in node.days)})')
            if node.day_start > 0:
                parts.append(f'DATE_EXTRACT("MINUTE_OF_DAY", {t}) >= {node.day_start}')
            if node.day_end < 1440:
                parts.append(f'DATE_EXTRACT("MINUTE_OF_DAY", {t}) < {node.day_end}')
        return "(" + " AND ".join(parts) + ")" if parts else self.TRUE

    def source_test(self, src: ir.Source) -> str:
        chans = ", ".join(esql_string(c.lower()) for c in src.channels)
        out = f"TO_LOWER({_ident(self.mapping.field(src, 'Channel') or 'winlog.channel')}) IN ({chans})"
        if src.event_ids:
            ids = ", ".join(esql_string(str(i)) for i in src.event_ids)
            out += f" AND {_ident(self.mapping.field(src, 'EventID') or 'event.code')} IN ({ids})"
        return out

    def rule(self, rule: ir.CompiledRule) -> tuple[str, list[str]]:
        parts, index = [], []
        for v in rule.variants:
            entry = self.mapping.source_entry(v.source)
            if entry is None:
                self.report.note(rule.id, f"variant {v.source.name}: no Elastic data stream; not exported")
                continue
            parts.append(f"({self.source_test(v.source)} AND {self.variant_condition(rule, v)})")
            index.extend(i for i in entry.get("index") or () if i not in index)
        if not parts:
            return "", []
        index.extend(i for i in self.mapping.raw.get("index_extra") or () if i not in index)
        query = f"FROM {', '.join(index)} METADATA _id, _index, _version\n| WHERE " + "\n    OR ".join(parts)
        self.report.size(rule.id, len(query))
        return query, index


def _ident(path: str) -> str:
    """ES|QL identifiers: dotted names as they are; anything else in backticks."""
    ok = all(p and (p[0].isalpha() or p[0] in "_@") and p.replace("_", "").replace("@", "").isalnum()
             for p in path.split("."))  # fmt: skip
    return path if ok else "`" + path.replace("`", "``") + "`"


def export_ndjson(
    rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None, report: ExportReport | None = None
) -> str:
    require_rules(rules)
    m = mapping or load_target_mapping("elastic")
    r = EsqlRenderer(m, report)
    lines = []
    for rule in rules:
        query, _ = r.rule(rule)
        if not query:
            r.report.drop(rule.id, "no variant has an Elastic data stream: rule not exported")
            continue
        lines.append(json.dumps(kibana_rule(rule, "esql", query, [], m), ensure_ascii=False))
    return "\n".join(lines) + "\n"
