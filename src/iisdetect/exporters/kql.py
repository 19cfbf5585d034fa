"""Compiled rules -> KQL (Kusto), shared by the Sentinel and Defender XDR exports.

KQL facts used (learn.microsoft.com, "String operators"): ``=~``, ``startswith``, ``endswith``,
``contains`` are case-insensitive, ``==`` and the ``*_cs`` forms case-sensitive; ``has`` is
term-based and is never emitted. Strings are verbatim ``@"..."`` (a backslash is literal, a quote
is doubled), so Windows paths need no escaping. Globs and Sigma regexes become ``matches regex``
(RE2, search semantics; look-arounds are unsupported and are reported). A missing column or
dynamic property reads as ``""``, not null, so a NOT needs no guard for string operators, but a
regex that matches the empty string would fire on absent fields: under NOT every test is guarded
with the source's ``guard`` (``isnotnull(EventData["X"])`` on WindowsEvent).

A rule whose variants live in several tables is a ``union`` of one ``Table | where`` per table.
"""

from __future__ import annotations

import re

from iisdetect.engine import ir
from iisdetect.exporters.base import IRRenderer, glob_rx
from iisdetect.mapping.targets import field_source

_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def kql_string(value: str) -> str:
    return '@"' + value.replace('"', '""') + '"'


class KqlRenderer(IRRenderer):
    target = "kql"
    TRUE = "true"
    FALSE = "false"
    AND = " and "
    OR = " or "

    def leaf(self, node: ir.Node, expr: str, src: ir.Source) -> str:
        if expr.startswith("@sha256:"):  # a table's SHA256 column in place of Sysmon's Hashes list
            col = expr.split(":", 1)[1]
            if isinstance(node, ir.Str) and node.op == "contains" and node.value.upper().startswith("SHA256="):
                return f"{col} =~ {kql_string(node.value[7:])}"
            self.report.note(self._rule_id, f"a {node.field} test other than SHA256 has no column: false")
            return self.FALSE
        if isinstance(node, ir.Str):
            cs = "_cs" if node.cased else ""
            if node.op == "eq":
                return f"{expr} {'==' if node.cased else '=~'} {kql_string(node.value)}"
            return f"{expr} {node.op}{cs} {kql_string(node.value)}"
        if isinstance(node, ir.Glob):
            flags = "(?s)" if node.cased else "(?is)"
            return f"{expr} matches regex {kql_string(flags + '^' + glob_rx(node.parts) + '$')}"
        if isinstance(node, ir.Regex):
            if _LOOKAROUND.search(node.pattern):
                self.report.note(self._rule_id, f"regex on {node.field} uses a look-around, which RE2 (KQL) rejects")
            flags = "(?i)" if node.ignore_case else ""
            return f"{expr} matches regex {kql_string(flags + node.pattern)}"
        if isinstance(node, ir.Num):
            if node.field in (self.mapping.raw.get("numeric") or ()):
                return f"{expr} == {node.value}"
            return f"toint({expr}) == {node.value}"
        if isinstance(node, ir.Null):
            return f"isempty({expr})"
        if isinstance(node, ir.Cidr):
            return f"ipv4_is_in_range({expr}, {kql_string(node.network)})"
        raise TypeError(f"cannot render {node!r}")

    def fieldref(self, node: ir.FieldRef, expr: str, other: str, src: ir.Source) -> str:
        if "@sha256:" in expr + other:
            return super().fieldref(node, expr, other, src)
        a, b = f"tolower({expr})", f"tolower({other})"
        test = {
            "eq": f"{a} == {b}",
            "startswith": f"indexof({a}, {b}) == 0",
            "endswith": f"(strlen({b}) == 0 or indexof({a}, {b}, strlen({a}) - strlen({b})) >= 0)",
            "contains": f"indexof({a}, {b}) >= 0",
        }[node.op]
        return f"({self.guard(node, expr, self.guard(node, other, test, src), src)})"

    def guard(self, node: ir.Node, expr: str, text: str, src: ir.Source) -> str:
        """A dynamic property is null when absent (``isnotnull``); a column can only be tested
        for emptiness (an absent and an empty value look the same in a table column)."""
        if expr.startswith("@sha256:"):
            expr = expr.split(":", 1)[1]
        m = re.fullmatch(r"tostring\((EventData.+)\)", expr)
        return f"({'isnotnull(' + m.group(1) if m else 'isnotempty(' + expr}) and {text})"

    def window(self, node: ir.TimeWindow, src: ir.Source) -> str:
        t = self.mapping.setting(src, "time_field", "TimeGenerated")
        parts = []
        if node.start:
            parts.append(f"{t} >= datetime({node.start}Z)")
        if node.end:
            parts.append(f"{t} < datetime({node.end}Z)")
        if node.days:
            # dayofweek(): days since the previous Sunday as a timespan (Sunday = 0d)
            kdays = ", ".join(str((d + 1) % 7) for d in node.days)
            parts.append(f"toint(dayofweek({t}) / 1d) in ({kdays})")
            if node.day_start > 0:
                parts.append(f"({t} - startofday({t})) >= {node.day_start}m")
            if node.day_end < 1440:
                parts.append(f"({t} - startofday({t})) < {node.day_end}m")
        return "(" + " and ".join(parts) + ")" if parts else self.TRUE

    def source_test(self, src: ir.Source) -> str:
        tmpl = self.mapping.setting(src, "source_test", "")
        parts = []
        if tmpl and "{channel}" in tmpl:
            chans = [tmpl.format(channel=kql_string(c)) for c in src.channels]
            parts.append(chans[0] if len(chans) == 1 else "(" + " or ".join(chans) + ")")
        elif tmpl:
            return tmpl  # the table (and ActionType) already mean the variant's events
        eid = self.mapping.field(src, "EventID") or "EventID"
        if src.event_ids and not eid.isdigit():  # a digit: the table holds that one event kind
            parts.append(f"{eid} in ({', '.join(str(i) for i in src.event_ids)})")
        return " and ".join(parts)

    def rule(self, rule: ir.CompiledRule) -> str:
        """``Table | where ...`` (or a union over tables); "" when no variant has a table."""
        by_table: dict[str, list[str]] = {}
        for v in rule.variants:
            fsrc = field_source(v.source, v.condition)
            table = self.mapping.setting(fsrc, "table") if self.mapping.source_entry(v.source) is not None else None
            if not table:
                why = self.mapping.setting(fsrc, "why", "no table mapped")
                self.report.note(rule.id, f"variant {v.source.name} not exported: {why}")
                continue
            join = self.mapping.setting(fsrc, "join", "")
            if join and rule.fields() & set(self.mapping.setting(fsrc, "join_when", ())):
                table = f"{table}\n{' '.join(join.split())}"
            cond = self.variant_condition(rule, v)
            test = self.source_test(fsrc)
            by_table.setdefault(table, []).append(f"({test} and {cond})" if test else f"({cond})")
        parts = [f"{t}\n| where " + "\n    or ".join(conds) for t, conds in by_table.items()]
        if not parts:
            return ""
        query = parts[0] if len(parts) == 1 else "union\n  (" + "),\n  (".join(parts) + ")"
        self.report.size(rule.id, len(query))
        return query

    def tables(self, rule: ir.CompiledRule) -> list[str]:
        out = []
        for v in rule.variants:
            if self.mapping.source_entry(v.source):
                t = self.mapping.setting(v.source, "table")
                if t and t not in out:
                    out.append(t)
        return out
