"""Compiled rules -> Kibana detection rules (NDJSON) of type EQL, over the Elastic Windows
integration's field shape (``mapping/elastic.yaml``).

Leaves use EQL's case-insensitive forms (ES "EQL syntax reference"): equality ``f in~ ("v")``,
``startsWith~``/``endsWith~``/``stringContains~`` functions (no wildcard escaping to get wrong:
in ``:`` patterns a backslash escapes), ``|cased`` tests the case-sensitive ``==``/functions without
``~``; globs and regexes ``regex~``/``regex`` with the pattern translated to Lucene syntax
(:mod:`lucene_regex`: whole-value match, no anchors) and reported above ``index.max_regex_length``.
A missing field makes an EQL comparison null, and ``not null`` is not true, so every test under
NOT is guarded ``(f != null and ...)``. ``event.code`` is a string. Sysmon's ``User`` is split by the
pipeline: it is compared as ``concat(user.domain, "\\\\", user.name)``; a tuning ``hash`` becomes
``<file|process>.hash.sha256 in~ ("<hex>")``.

EQL has no date functions, so a maintenance window (``ir.TimeWindow``) cannot be written: its test
is false (the tuning entry never suppresses: more alerts, never fewer) and the export says so;
``--target elastic-esql`` renders windows natively.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from iisdetect.engine import ir
from iisdetect.exporters.base import TACTIC_NAMES, ExportReport, IRRenderer, attack_ids, glob_rx, require_rules
from iisdetect.exporters.lucene_regex import Untranslatable, to_lucene
from iisdetect.mapping.targets import TargetMapping, load_target_mapping

RISK = {"informational": 21, "low": 21, "medium": 47, "high": 73, "critical": 99}
SEVERITY = {"informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
TECHNIQUES = {
    "T1505": "Server Software Component", "T1505.004": "IIS Components", "T1505.003": "Web Shell",
    "T1562": "Impair Defenses", "T1562.002": "Disable Windows Event Logging",
    "T1059": "Command and Scripting Interpreter", "T1059.001": "PowerShell", "T1070": "Indicator Removal",
}  # fmt: skip


def eql_string(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def eql_field(path: str) -> str:
    return path if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", path) else f"`{path}`"


class EqlRenderer(IRRenderer):
    target = "elastic"
    TRUE = "true"
    FALSE = "false"
    AND = " and "
    OR = " or "

    def _expr(self, expr: str) -> tuple[str, str]:
        """(value expression, the field to null-test) for a mapping expression."""
        if expr == "@user_split":
            us = self.mapping.raw["user_split"]
            return f'concat({us["domain"]}, "\\\\", {us["name"]})', us["name"]
        return eql_field(expr), eql_field(expr)

    def leaf(self, node: ir.Node, expr: str, src: ir.Source) -> str:
        """One leaf test; the dialect's spellings are the ``*_test`` and ``_regex`` methods (ES|QL overrides)."""
        if expr.startswith("@sha256:"):
            path = expr.split(":", 1)[1]
            if isinstance(node, ir.Str) and node.op == "contains" and node.value.upper().startswith("SHA256="):
                return self.sha256_test(path, node.value[7:].lower())
            self.report.note(self._rule_id, f"a {node.field} test other than SHA256 has no ECS field: false")
            return self.FALSE
        f, _ = self._expr(expr)
        if isinstance(node, ir.Str):
            return self.str_test(f, node)
        if isinstance(node, ir.Glob):
            return self._regex(f, glob_rx(node.parts, extra='"#@&<>~'), node.cased)
        if isinstance(node, ir.Regex):
            try:
                lucene = to_lucene(node.pattern)
            except Untranslatable as exc:
                self.report.note(self._rule_id, f"regex on {node.field} has no Lucene form ({exc}): test is false")
                return self.FALSE
            return self._regex(f, lucene, not node.ignore_case)
        if isinstance(node, ir.Num):
            return f"{f} == {eql_string(str(node.value))}"
        if isinstance(node, ir.Null):
            return self.null_test(f)
        if isinstance(node, ir.Cidr):
            return self.cidr_test(f, node.network)
        raise TypeError(f"cannot render {node!r}")

    def sha256_test(self, path: str, hex_value: str) -> str:
        return f"{eql_field(path)} in~ ({eql_string(hex_value)})"

    def str_test(self, f: str, node: ir.Str) -> str:
        v = eql_string(node.value)
        if node.op == "eq":
            return f"{f} == {v}" if node.cased else f"{f} in~ ({v})"
        fn = {"startswith": "startsWith", "endswith": "endsWith", "contains": "stringContains"}[node.op]
        return f"{fn}{'' if node.cased else '~'}({f}, {v})"

    def null_test(self, f: str) -> str:
        return f'({f} == null or {f} == "")'

    def cidr_test(self, f: str, network: str) -> str:
        return f"cidrMatch({f}, {eql_string(network)})"

    def check_regex_length(self, body: str) -> None:
        limit = self.mapping.limits.get("regex_chars", 0)
        if limit and len(body) > limit:
            self.report.note(self._rule_id, f"a regex is {len(body)} chars, above index.max_regex_length {limit}")

    def _regex(self, f: str, body: str, cased: bool) -> str:
        self.check_regex_length(body)
        return f"{f} regex{'' if cased else '~'} {eql_string(body)}"

    def guard(self, node: ir.Node, expr: str, text: str, src: ir.Source) -> str:
        if expr.startswith("@sha256:"):
            return f"({eql_field(expr.split(':', 1)[1])} != null and {text})"
        return f"({self._expr(expr)[1]} != null and {text})"

    def window(self, node: ir.TimeWindow, src: ir.Source) -> str:
        self.report.note(
            self._rule_id, "maintenance window: EQL has no date functions; the window test is false "
            "(its tuning entry never suppresses); use --target elastic-esql"
        )  # fmt: skip
        return self.FALSE

    def source_test(self, src: ir.Source) -> str:
        chans = ", ".join(eql_string(c) for c in src.channels)
        out = f"{eql_field(self.mapping.field(src, 'Channel') or 'winlog.channel')} in~ ({chans})"
        if src.event_ids:
            ids = ", ".join(eql_string(str(i)) for i in src.event_ids)
            out += f" and {eql_field(self.mapping.field(src, 'EventID') or 'event.code')} in ({ids})"
        return out

    def rule(self, rule: ir.CompiledRule) -> tuple[str, list[str]]:
        """(EQL query, index patterns); ("", []) when no variant maps."""
        parts, index = [], []
        for v in rule.variants:
            entry = self.mapping.source_entry(v.source)
            if entry is None:
                self.report.note(rule.id, f"variant {v.source.name}: no Elastic data stream; not exported")
                continue
            parts.append(f"({self.source_test(v.source)} and {self.variant_condition(rule, v)})")
            index.extend(i for i in entry.get("index") or () if i not in index)
        if not parts:
            return "", []
        index.extend(i for i in self.mapping.raw.get("index_extra") or () if i not in index)
        query = "any where " + "\n  or ".join(parts)
        self.report.size(rule.id, len(query))
        return query, index


def threat(rule: ir.CompiledRule) -> list[dict[str, Any]]:
    """Kibana's ``threat`` array (MITRE ATT&CK framework) from the Sigma tags."""
    tactics, techniques = attack_ids(rule)
    techs: dict[str, dict[str, Any]] = {}
    for t in techniques:
        parent = t.split(".")[0]
        entry = techs.setdefault(parent, {"id": parent, "name": TECHNIQUES.get(parent, parent),
                                          "reference": f"https://attack.mitre.org/techniques/{parent}/"})  # fmt: skip
        if "." in t:
            ref = f"https://attack.mitre.org/techniques/{t.replace('.', '/')}/"
            entry.setdefault("subtechnique", []).append({"id": t, "name": TECHNIQUES.get(t, t), "reference": ref})
    out = []
    for i, tac in enumerate(t for t in tactics if t in TACTIC_NAMES):
        tid, name = TACTIC_NAMES[tac]
        out.append({
            "framework": "MITRE ATT&CK",
            "tactic": {"id": tid, "name": name, "reference": f"https://attack.mitre.org/tactics/{tid}/"},
            "technique": list(techs.values()) if i == 0 else [],
        })  # fmt: skip
    return out


def kibana_rule(rule: ir.CompiledRule, rtype: str, query: str, index: list[str], m: TargetMapping) -> dict[str, Any]:
    settings = m.raw.get("rule") or {}
    body: dict[str, Any] = {
        "rule_id": rule.id,
        "name": rule.title,
        "description": " ".join(rule.description.split()),
        "risk_score": RISK.get(rule.level, 47),
        "severity": SEVERITY.get(rule.level, "medium"),
        "type": rtype,
        "language": rtype,
        "query": query,
        "from": settings.get("from", "now-6m"),
        "interval": settings.get("interval", "5m"),
        "enabled": False,
        "author": ["iisdetect"],
        "tags": ["iisdetect", rule.detection_type, *rule.tags],
        "false_positives": list(rule.falsepositives),
        "threat": threat(rule),
        "max_signals": 100,
        "version": 1,
    }
    if index:
        body["index"] = index
    return body


def export_ndjson(
    rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None, report: ExportReport | None = None
) -> str:
    """One Kibana rule JSON per line (Security > Rules > Import)."""
    require_rules(rules)
    m = mapping or load_target_mapping("elastic")
    r = EqlRenderer(m, report)
    lines = []
    for rule in rules:
        query, index = r.rule(rule)
        if not query:
            r.report.drop(rule.id, "no variant has an Elastic data stream: rule not exported")
            continue
        lines.append(json.dumps(kibana_rule(rule, "eql", query, index, m), ensure_ascii=False))
    return "\n".join(lines) + "\n"
