"""Sigma (via pySigma) -> rule IR, once per rule and log-source variant.

pySigma does the hard parts: YAML schema, modifiers (``contains``, ``windash``, ``all``,
``base64offset``...), ``1 of selection_*`` and the field-mapping pipeline of each variant. We only
lower its parsed condition tree into ``ir`` nodes. Anything we cannot evaluate faithfully raises
``UnsupportedSigma`` so the caller can warn with the rule's name instead of skipping silently.
"""

from __future__ import annotations

from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from iisdetect.engine import ir
from iisdetect.mapping.logsources import LogsourceVariant


class UnsupportedSigma(Exception):
    """A Sigma construct the engine cannot evaluate exactly (keywords, placeholders, compare...)."""


def field_pipeline(variant: LogsourceVariant) -> ProcessingPipeline:
    """The variant's field renames as a pySigma pipeline (so pySigma tracks what it changed)."""
    items = []
    if variant.fields:
        items.append(
            ProcessingItem(
                identifier=f"iisdetect_{variant.name}_fields",
                transformation=FieldMappingTransformation(dict(variant.fields)),
            )
        )
    return ProcessingPipeline(name=f"iisdetect {variant.name}", priority=20, items=items)


def compile_condition(rule: SigmaRule) -> ir.Node:
    """Lower a (pipeline-processed) rule's condition(s) into one IR node."""
    trees = [lower(cond.parse()) for cond in rule.detection.parsed_condition]
    return trees[0] if len(trees) == 1 else ir.Or(tuple(trees))


def lower(node: Any) -> ir.Node:
    if isinstance(node, ConditionAND):
        return _flatten(ir.And, [lower(a) for a in node.args])
    if isinstance(node, ConditionOR):
        return _flatten(ir.Or, [lower(a) for a in node.args])
    if isinstance(node, ConditionNOT):
        return ir.Not(lower(node.args[0]))
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _match(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        raise UnsupportedSigma("keyword (field-less) search is not supported; name the field")
    raise UnsupportedSigma(f"condition element {type(node).__name__} is not supported")


def _flatten(kind: type[ir.And] | type[ir.Or], items: list[ir.Node]) -> ir.Node:
    out: list[ir.Node] = []
    for item in items:
        if isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    return out[0] if len(out) == 1 else kind(tuple(out))


def _match(field: str | None, value: Any) -> ir.Node:
    if field is None:
        raise UnsupportedSigma("keyword (field-less) search is not supported; name the field")
    if isinstance(value, SigmaNull):
        return ir.Null(field)
    if isinstance(value, SigmaBool):
        return ir.Str(field, "eq", "true" if value.boolean else "false")
    if isinstance(value, SigmaNumber):
        return ir.Num(field, int(value.number))
    if isinstance(value, SigmaRegularExpression):
        flags = value.flags or set()
        unsupported = flags - {SigmaRegularExpressionFlag.IGNORECASE}
        if unsupported:
            raise UnsupportedSigma(f"regex flags {sorted(f.name for f in unsupported)} are not supported")
        pattern = value.regexp if isinstance(value.regexp, str) else str(value.regexp)
        from iisdetect.engine.linear_re import UnsupportedRegex, compile_linear

        try:  # refused here, so the rule is skipped with a warning naming it
            compile_linear(pattern, ignore_case=SigmaRegularExpressionFlag.IGNORECASE in flags)
        except UnsupportedRegex as exc:
            raise UnsupportedSigma(str(exc)) from None
        return ir.Regex(field, pattern, SigmaRegularExpressionFlag.IGNORECASE in flags)
    if isinstance(value, SigmaExpansion):  # windash & co.: any of the generated values
        return _flatten(ir.Or, [_match(field, v) for v in value.values])
    if isinstance(value, SigmaCIDRExpression):
        return ir.Cidr(field, str(value.network))
    if isinstance(value, SigmaString):
        if value.contains_placeholder():
            raise UnsupportedSigma("placeholders (|expand) are not supported")
        return _string(field, value, isinstance(value, SigmaCasedString))
    raise UnsupportedSigma(f"value type {type(value).__name__} (field {field}) is not supported")


def _string(field: str, value: SigmaString, cased: bool) -> ir.Node:
    parts: list[object] = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            if not parts or parts[-1] is not ir.STAR:
                parts.append(ir.STAR)
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(ir.ONE)
        elif isinstance(part, str):
            if parts and isinstance(parts[-1], str):
                parts[-1] = parts[-1] + part
            else:
                parts.append(part)
        else:
            raise UnsupportedSigma(f"string part {part!r} (field {field}) is not supported")
    literals = [p for p in parts if isinstance(p, str)]
    if ir.ONE not in parts and len(literals) <= 1:
        text = literals[0] if literals else ""
        lead = bool(parts) and parts[0] is ir.STAR
        trail = bool(parts) and parts[-1] is ir.STAR
        if not literals:
            return ir.Const(True) if parts else ir.Str(field, "eq", "", cased)
        op = "contains" if lead and trail else "endswith" if lead else "startswith" if trail else "eq"
        return ir.Str(field, op, text, cased)
    return ir.Glob(field, tuple(parts), cased)
