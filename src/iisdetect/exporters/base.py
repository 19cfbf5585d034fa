"""The shared IR walk for every SIEM renderer, and the report of what a target could not express.

Why our own walk and not pySigma backends (reference/exports.md 1.4): the IR already holds one
condition per log-source variant (Security 4688/4663 next to Sysmon), the tuning filter, and the
per-variant field renames; a renderer only supplies leaf syntax, a guard for tests under NOT
(three-valued logic: a test on a missing field is NULL, and NOT NULL drops the event), and the
native rendering of ``ir.TimeWindow``. Nothing a target cannot express disappears silently: it
becomes a constant false test and a line in ``ExportReport``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from iisdetect.engine import ir
from iisdetect.errors import IisdetectError
from iisdetect.mapping.targets import TargetMapping, field_source


class ExportError(IisdetectError):
    """A rule cannot be written for the target at all."""


@dataclass
class ExportReport:
    """What the export changed or could not express, per rule; printed on stderr by ``export``."""

    target: str
    notes: list[tuple[str, str]] = field(default_factory=list)  # (rule id or "", message)
    sizes: dict[str, int] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    #: (rule id, variant, "rule" | "tuning") -> canonical fields the target has no column for
    absent: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    #: rules the target has no place for at all (no variant mapped): not in the written file
    dropped: list[str] = field(default_factory=list)

    def note(self, rule_id: str, message: str) -> None:
        if (rule_id, message) not in self.notes:
            self.notes.append((rule_id, message))

    def drop(self, rule_id: str, message: str) -> None:
        """The whole rule is left out of the file; the export's count says so."""
        self.note(rule_id, message)
        if rule_id not in self.dropped:
            self.dropped.append(rule_id)

    def size(self, rule_id: str, chars: int) -> None:
        self.sizes[rule_id] = chars
        limit = self.limits.get("query_chars", 0)
        if limit and chars > limit:
            self.note(rule_id, f"query is {chars:,} chars, above the {limit:,}-char limit of {self.target}")

    def lines(self) -> list[str]:
        out = [f"{rid}: {msg}" if rid else msg for rid, msg in self.notes]
        for (rid, variant, ctx), names in self.absent.items():
            what = "tuning-entry tests" if ctx == "tuning" else "RULE tests (check the log lacks it there)"
            fields = ", ".join(names)
            out.append(f"{rid}: variant {variant}: no {self.target} field for {fields}; those {what} are false")
        if self.sizes:
            big = max(self.sizes.items(), key=lambda kv: kv[1])
            out.append(f"largest query: {big[1]:,} chars ({big[0]}); total {sum(self.sizes.values()):,} chars")
        return out


def split_tuning(rule: ir.CompiledRule, cond: ir.Node) -> tuple[ir.Node, ir.Node | None]:
    """(the rule's own condition, the tuning filter under its NOT) as ``Tuning.apply`` builds them."""
    if rule.custom.get("tuning") and isinstance(cond, ir.And) and len(cond.items) == 2:
        own, filt = cond.items
        if isinstance(filt, ir.Not):
            return own, filt.item
    return cond, None


class IRRenderer:
    """Walks a variant's condition; subclasses give the syntax (class attributes) and leaves."""

    target = ""
    TRUE = "true"
    FALSE = "false"
    AND = " and "
    OR = " or "

    def __init__(self, mapping: TargetMapping, report: ExportReport | None = None) -> None:
        self.mapping = mapping
        self.report = report or ExportReport(mapping.name, limits=mapping.limits)
        self._rule_id = ""
        self._ctx = "rule"
        self._fsrc: ir.Source | None = None

    # -- hooks ------------------------------------------------------------------------------
    def leaf(self, node: ir.Node, expr: str, src: ir.Source) -> str:
        raise NotImplementedError

    def guard(self, node: ir.Node, expr: str, text: str, src: ir.Source) -> str:
        """``text`` under NOT: by default true only when the field exists (subclasses decide)."""
        return text

    def window(self, node: ir.TimeWindow, src: ir.Source) -> str:
        raise NotImplementedError

    def fieldref(self, node: ir.FieldRef, expr: str, other: str, src: ir.Source) -> str:
        """Sigma ``|fieldref`` (``node.field`` against the value of ``node.other``, case-insensitive,
        false when either is missing, under NOT too). Dialects that cannot compare two fields keep
        the default: the test is false (the rule fires less, never more) and the export says so."""
        self.report.note(self._rule_id, f"{self.target} cannot compare field {node.field} with {node.other}: false")
        return self.FALSE

    def negate(self, text: str) -> str:
        return f"not ({text})"

    # -- walk -------------------------------------------------------------------------------
    def field(self, src: ir.Source, name: str) -> str | None:
        expr = self.mapping.field(self._fsrc or src, name)
        if expr is None:
            names = self.report.absent.setdefault((self._rule_id, src.name, self._ctx), [])
            if name not in names:
                names.append(name)
        return expr

    def condition(self, node: ir.Node, src: ir.Source, negated: bool = False) -> str:
        if isinstance(node, ir.And | ir.Or):
            if not node.items:
                return self.TRUE if isinstance(node, ir.And) else self.FALSE
            inner = [self.condition(i, src, negated) for i in node.items]
            joiner = self.AND if isinstance(node, ir.And) else self.OR
            return inner[0] if len(inner) == 1 else "(" + joiner.join(inner) + ")"
        if isinstance(node, ir.Not):
            return self.negate(self.condition(node.item, src, not negated))
        if isinstance(node, ir.Const):
            return self.TRUE if node.value else self.FALSE
        if isinstance(node, ir.TimeWindow):
            return self.window(node, src)
        expr = self.field(src, node.field)
        if expr is None:
            return self.FALSE
        if isinstance(node, ir.FieldRef):  # carries its own presence tests: no guard under NOT
            other = self.field(src, node.other)
            return self.FALSE if other is None else self.fieldref(node, expr, other, src)
        text = self.leaf(node, expr, src)
        if negated and not isinstance(node, ir.Null):
            return self.guard(node, expr, text, src)
        return text

    def variant_condition(self, rule: ir.CompiledRule, variant: ir.Variant) -> str:
        """The variant's condition with the tuning part reported as such."""
        self._rule_id = rule.id
        self._fsrc = field_source(variant.source, variant.condition)
        own, filt = split_tuning(rule, variant.condition)
        self._ctx = "rule"
        text = self.condition(own, variant.source)
        if filt is None:
            self._fsrc = None
            return text
        self._ctx = "tuning"
        tuned = self.negate(self.condition(filt, variant.source, negated=True))
        self._ctx = "rule"
        self._fsrc = None
        return "(" + self.AND.join([text, tuned]) + ")"


_RX_META = set("\\.^$|?*+()[]{}")


def rx_literal(text: str, extra: str = "") -> str:
    """``text`` as a regex literal: only metacharacters (plus ``extra``) get a backslash, which
    reads the same in Python re, PCRE (Splunk), RE2 (KQL) and Lucene regexp."""
    meta = _RX_META | set(extra)
    return "".join("\\" + ch if ch in meta else ch for ch in text)


def glob_rx(parts: Sequence[object], extra: str = "") -> str:
    """Glob parts (literals, ``ir.STAR``, ``ir.ONE``) -> an unanchored regex body."""
    out = []
    for p in parts:
        out.append(".*" if p is ir.STAR else "." if p is ir.ONE else rx_literal(str(p), extra))
    return "".join(out)


def attack_ids(rule: ir.CompiledRule) -> tuple[list[str], list[str]]:
    """(tactics, technique ids) from Sigma tags: ``attack.persistence``, ``attack.t1505.004``."""
    tactics, techniques = [], []
    for tag in rule.tags:
        t = tag.lower()
        if not t.startswith("attack."):
            continue
        v = t[len("attack.") :]
        if v[:1] == "t" and v[1:2].isdigit():
            techniques.append(v.upper())
        elif not v.startswith(("g", "s")) or not v[1:2].isdigit():
            tactics.append(v)
    return tactics, techniques


TACTIC_NAMES = {
    "reconnaissance": ("TA0043", "Reconnaissance"), "resource_development": ("TA0042", "Resource Development"),
    "initial_access": ("TA0001", "Initial Access"), "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"), "privilege_escalation": ("TA0004", "Privilege Escalation"),
    "defense_evasion": ("TA0005", "Defense Evasion"), "credential_access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"), "lateral_movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"), "command_and_control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"), "impact": ("TA0040", "Impact"),
}  # fmt: skip


def require_rules(rules: Sequence[ir.CompiledRule]) -> None:
    if not rules:
        raise ExportError("no rules to export")
