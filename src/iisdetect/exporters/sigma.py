"""Compiled, tuned rules -> Sigma rule files with the tuning folded in as filter selections.

The module baseline (``baseline:`` items, baseline/compile.py) is filled in first: left as it is in
the source, the items are empty and ``baseline:`` is no Sigma key, so another tool would read a rule
that has lost its known-module and known-deployment lists.

Why: a user's tuning lives only in the IR (``And(cond, Not(Or(entries)))``), so without this a
Sigma rule sent to another tool loses every allow-list entry. Each rule file is the original YAML
with one ``tuning_sN`` selection per IR leaf of the tuning filter and the condition
``(<original>) and not <tuning expression>`` (reference/exports.md 1.3).

Leaves: ``Str`` -> ``field|startswith|endswith|contains`` (``|cased`` when cased), ``Glob`` -> a
wildcard value, ``Regex`` -> ``|re`` (``|i``), ``Num`` -> a number, ``Null`` -> ``null``, ``Cidr`` ->
``|cidr``. Literal ``*``, ``?`` and ``\\`` are escaped (``\\*``, ``\\?``, ``\\\\``) as the Sigma
specification defines. Maintenance windows have no Sigma form: they are lowered to the regexes on
``TimeCreated`` (``tuning.windows.regex_form``: dates expanded over 2020..2039 for weekly windows),
which is reported, since they make the rule long.

Tuning fields are the log's own names after the logsource mapping (``NewProcessName``, ``ObjectName``,
``Computer``, ``TimeCreated``); a Sigma backend must map them like any field.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from iisdetect.baseline import compile as baseline_compile
from iisdetect.engine import ir
from iisdetect.errors import UsageError
from iisdetect.exporters.base import ExportReport, require_rules, split_tuning
from iisdetect.tuning.windows import regex_form


def sigma_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _glob_value(parts: Sequence[object]) -> str:
    return "".join("*" if p is ir.STAR else "?" if p is ir.ONE else sigma_escape(str(p)) for p in parts)


def leaf_selection(node: ir.Node) -> dict[str, Any]:
    """One IR leaf as a one-item Sigma selection."""
    if isinstance(node, ir.Str):
        mods = "" if node.op == "eq" else "|" + node.op
        return {f"{node.field}{mods}{'|cased' if node.cased else ''}": sigma_escape(node.value)}
    if isinstance(node, ir.Glob):
        return {f"{node.field}{'|cased' if node.cased else ''}": _glob_value(node.parts)}
    if isinstance(node, ir.Regex):
        return {f"{node.field}|re{'|i' if node.ignore_case else ''}": node.pattern}
    if isinstance(node, ir.Num):
        return {node.field: node.value}
    if isinstance(node, ir.Null):
        return {node.field: None}
    if isinstance(node, ir.Cidr):
        return {f"{node.field}|cidr": node.network}
    raise UsageError(f"cannot write IR node {type(node).__name__} as Sigma")


class _Builder:
    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.selections: dict[str, dict[str, Any]] = {}
        self._n = 0

    def expr(self, node: ir.Node) -> str:
        if isinstance(node, ir.And | ir.Or):
            inner = [self.expr(i) for i in node.items]
            joiner = " and " if isinstance(node, ir.And) else " or "
            return inner[0] if len(inner) == 1 else "(" + joiner.join(inner) + ")"
        if isinstance(node, ir.Not):
            return f"not {self.expr(node.item)}"
        if isinstance(node, ir.Const):
            raise UsageError("a constant in a tuning filter has no Sigma form")
        self._n += 1
        name = f"tuning_s{self._n}"
        while name in self.taken:
            name += "_"
        self.selections[name] = leaf_selection(node)
        return name


def tuned_sigma(rule: ir.CompiledRule, report: ExportReport | None = None) -> dict[str, Any]:
    """The rule's YAML document, with the baseline items filled in and the tuning filter (if any)
    folded into its detection: plain Sigma that any Sigma tool reads without iisdetect's loader."""
    doc = baseline_compile.apply(yaml.safe_load(Path(rule.path).read_text(encoding="utf-8")))
    if not rule.variants or not rule.custom.get("tuning"):
        return doc
    own, filt = split_tuning(rule, rule.variants[0].condition)
    if filt is None:
        return doc
    if _has_window(filt) and report is not None:
        report.note(rule.id, "maintenance windows written as TimeCreated regexes (Sigma has no time test)")
    detection = dict(doc["detection"])
    cond = detection.pop("condition")
    b = _Builder(set(detection))
    tuning = b.expr(regex_form(filt))
    detection.update(b.selections)
    conds = cond if isinstance(cond, list) else [cond]
    detection["condition"] = [f"({c}) and not {tuning}" for c in conds] if len(conds) > 1 else (
        f"({conds[0]}) and not {tuning}")  # fmt: skip
    doc["detection"] = detection
    names = ", ".join(rule.custom["tuning"])
    doc["description"] = (doc.get("description") or "").rstrip() + f"\n\nTuned by iisdetect: {names}.\n"
    return doc


def _has_window(node: ir.Node) -> bool:
    if isinstance(node, ir.And | ir.Or):
        return any(_has_window(i) for i in node.items)
    if isinstance(node, ir.Not):
        return _has_window(node.item)
    return isinstance(node, ir.TimeWindow)


def export_sigma_dir(
    rules: Sequence[ir.CompiledRule], out_dir: str | Path, report: ExportReport | None = None
) -> list[Path]:
    """Write one ``<ruleset>/<file>.yml`` per rule under ``out_dir``; returns the paths."""
    require_rules(rules)
    root = Path(out_dir)
    paths = []
    for rule in rules:
        doc = tuned_sigma(rule, report)
        path = root / (rule.ruleset or "custom") / Path(rule.path).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
        if report is not None:
            report.size(rule.id, len(path.read_text(encoding="utf-8")))
        paths.append(path)
    return paths
