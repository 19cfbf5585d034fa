"""Compiled rules -> Splunk ``savedsearches.conf`` stanzas (one scheduled alert per rule).

Each query is a base search that only narrows by source and EventCode (search-time terms are
case-insensitive and ``OR`` binds tighter than the implicit ``AND`` there, so the base search is
kept to fully parenthesised ``source=... EventCode IN (...)`` terms), then one ``| where`` that
holds the whole condition: ``where`` has ordinary precedence (NOT > AND > OR), real NULLs and
regular expressions, which is what Sigma semantics need.

Leaves (docs.splunk.com, eval functions): case-insensitive equality as ``lower(F)=="v"``;
starts/ends/contains, globs and regexes as ``match(F, "(?i)...")`` with the literal parts
``re.escape``d (PCRE treats a backslash before punctuation as that character); ``like()`` is not
used because ``%``/``_`` cannot be escaped. Under NOT a test is guarded ``(isnotnull(F) AND t)``:
``match(null, ..)`` is NULL and ``NOT NULL`` would drop the event. Maintenance windows use
``_time`` (epoch seconds) arithmetic, which is time-zone free, unlike ``strftime``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iisdetect.engine import ir
from iisdetect.exporters.base import ExportReport, IRRenderer, glob_rx, require_rules, rx_literal
from iisdetect.exporters.timewin import epoch_s
from iisdetect.mapping.targets import TargetMapping, load_target_mapping

SEVERITY = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def spl_string(value: str) -> str:
    """A double-quoted SPL string: backslash and quote escaped with a backslash."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SplunkRenderer(IRRenderer):
    target = "splunk"
    TRUE = "true()"
    FALSE = "false()"
    AND = " AND "
    OR = " OR "

    def negate(self, text: str) -> str:
        return f"NOT ({text})"

    def leaf(self, node: ir.Node, expr: str, src: ir.Source) -> str:
        f = _field(expr)
        if isinstance(node, ir.Str):
            if node.op == "eq":
                if node.cased:
                    return f"{f}=={spl_string(node.value)}"
                return f"lower({f})=={spl_string(node.value.lower())}"
            body = rx_literal(node.value)
            body = {"startswith": "^" + body, "endswith": body + "$"}.get(node.op, body)
            return self._match(f, body, not node.cased)
        if isinstance(node, ir.Glob):
            return self._match(f, "^" + glob_rx(node.parts) + "$", not node.cased, dotall=True)
        if isinstance(node, ir.Regex):
            return self._match(f, node.pattern, node.ignore_case)
        if isinstance(node, ir.Num):
            return f"tonumber({f})=={node.value}"
        if isinstance(node, ir.Null):
            return f'(isnull({f}) OR {f}=="")'
        if isinstance(node, ir.Cidr):
            return f"cidrmatch({spl_string(node.network)}, {f})"
        raise TypeError(f"cannot render {node!r}")

    def fieldref(self, node: ir.FieldRef, expr: str, other: str, src: ir.Source) -> str:
        a, b = f"lower({_field(expr)})", f"lower({_field(other)})"
        tests = {
            "eq": f"{a}=={b}",
            "startswith": f"substr({a}, 1, len({b}))=={b}",
            "endswith": f"(len({b})==0 OR substr({a}, -len({b}))=={b})",
        }
        if node.op not in tests:  # SPL's eval has no substring search without a pattern
            return super().fieldref(node, expr, other, src)
        return f"(isnotnull({_field(expr)}) AND isnotnull({_field(other)}) AND {tests[node.op]})"

    @staticmethod
    def _match(f: str, body: str, ci: bool, dotall: bool = False) -> str:
        flags = ("i" if ci else "") + ("s" if dotall else "")
        return f"match({f}, {spl_string(('(?' + flags + ')' if flags else '') + body)})"

    def guard(self, node: ir.Node, expr: str, text: str, src: ir.Source) -> str:
        return f"(isnotnull({_field(expr)}) AND {text})"

    def window(self, node: ir.TimeWindow, src: ir.Source) -> str:
        t = self.mapping.setting(src, "time_field", "_time")
        parts = []
        if node.start:
            parts.append(f"{t}>={epoch_s(node.start)}")
        if node.end:
            parts.append(f"{t}<{epoch_s(node.end)}")
        if node.days:
            # 1970-01-01 was a Thursday (weekday 3 with Monday = 0)
            parts.append(f"in((floor({t}/86400)+3)%7, {', '.join(str(d) for d in node.days)})")
            if node.day_start > 0:
                parts.append(f"floor(({t}%86400)/60)>={node.day_start}")
            if node.day_end < 1440:
                parts.append(f"floor(({t}%86400)/60)<{node.day_end}")
        return "(" + " AND ".join(parts) + ")" if parts else self.TRUE

    # -- a rule ------------------------------------------------------------------------------
    def source_terms(self, src: ir.Source) -> tuple[str, str]:
        """(base-search term, where test) restricting to the variant's channel and EventIDs."""
        sf = self.mapping.setting(src, "source_field", "source")
        prefix = self.mapping.setting(src, "source_prefix", "")
        code = self.mapping.setting(src, "event_code_field", "EventCode")
        chans = [prefix + c for c in src.channels]
        search = " OR ".join(f"{sf}={spl_string(c)}" for c in chans)
        where = " OR ".join(f"lower({sf})=={spl_string(c.lower())}" for c in chans)
        search, where = (f"({search})", f"({where})") if len(chans) > 1 else (search, where)
        if src.event_ids:
            search += f" {code} IN ({', '.join(str(i) for i in src.event_ids)})"
            where += f" AND in(tonumber({code}), {', '.join(str(i) for i in src.event_ids)})"
        return search, where

    def rule(self, rule: ir.CompiledRule) -> str:
        searches, wheres = [], []
        for v in rule.variants:
            if self.mapping.source_entry(v.source) is None:
                self.report.note(rule.id, f"variant {v.source.name}: no Splunk source mapped; not exported")
                continue
            s, w = self.source_terms(v.source)
            searches.append(f"({s})")
            wheres.append(f"(({w}) AND {self.variant_condition(rule, v)})")
        if not searches:
            return ""
        index = self.mapping.raw.get("index", "*")
        query = f"search index={index} ({' OR '.join(searches)})\n| where {' OR '.join(wheres)}"
        self.report.size(rule.id, len(query))
        return query


def _field(expr: str) -> str:
    return expr if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", expr) else "'" + expr.replace("'", "\\'") + "'"


def stanza_name(rule: ir.CompiledRule) -> str:
    title = re.sub(r"[\[\]\r\n]", " ", rule.title).strip()
    return f"iisdetect - {rule.detection_type} - {title}"


def _conf_value(text: str) -> str:
    """savedsearches.conf values continue over lines with a trailing backslash."""
    return " \\\n".join(text.splitlines())


def export_savedsearches(
    rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None, report: ExportReport | None = None
) -> str:
    """One ``[stanza]`` per rule: the search, its schedule and alert settings."""
    require_rules(rules)
    m = mapping or load_target_mapping("splunk")
    r = SplunkRenderer(m, report)
    out = ["# Generated by iisdetect export --target splunk (docs/export-splunk.md)", ""]
    for rule in rules:
        query = r.rule(rule)
        if not query:
            r.report.drop(rule.id, "no variant has a Splunk source: rule not exported")
            continue
        desc = " ".join(rule.description.split())
        out.append(f"[{stanza_name(rule)}]")
        out.append(f"description = {desc} (Sigma rule {rule.id})")
        out.append(f"search = {_conf_value(query)}")
        out.append("enableSched = 1")
        for k, v in (m.raw.get("schedule") or {}).items():
            out.append(f"{k} = {v}")
        out.append("counttype = number of events\nrelation = greater than\nquantity = 0")
        out.append(f"alert.severity = {SEVERITY.get(rule.level, 3)}")
        out.append("alert.suppress = 0\nalert.track = 1")
        out.append("")
    return "\n".join(out)
