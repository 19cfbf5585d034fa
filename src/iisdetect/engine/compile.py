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
from sigma.processing.transformations import FieldMappingTransformation, ValueListPlaceholderTransformation
from sigma.rule import SigmaRule
from sigma.types import (
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from iisdetect.engine import ir, wildcards
from iisdetect.mapping.logsources import LogsourceVariant
from iisdetect.model.event import MESSAGE_FIELD


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


def placeholder_pipeline(placeholders: dict[str, list[str]]) -> ProcessingPipeline:
    """``|expand`` values from the user's placeholder file: ``%name%`` becomes any of the values."""
    return ProcessingPipeline(
        name="iisdetect placeholders",
        priority=10,
        vars={k: list(v) for k, v in placeholders.items()},
        items=[
            ProcessingItem(identifier="iisdetect_placeholders", transformation=ValueListPlaceholderTransformation())
        ],
    )


#: The field keyword (field-less) searches look in: the rendered message, where the input has one.
KEYWORD_FIELD = MESSAGE_FIELD


def compile_condition(rule: SigmaRule, field_names: dict[str, str] | None = None) -> ir.Node:
    """Lower a (pipeline-processed) rule's condition(s) into one IR node.

    ``field_names`` is the variant's Sigma -> log field renaming, applied to ``|fieldref`` targets
    (pySigma's field mapping renames the tested field, not the referenced one).
    """
    lowerer = _Lowerer(field_names or {})
    trees = [lowerer.lower(cond.parse()) for cond in rule.detection.parsed_condition]
    return trees[0] if len(trees) == 1 else ir.Or(tuple(trees))


def lower(node: Any) -> ir.Node:
    """Lower one pySigma condition node with no field renaming."""
    return _Lowerer({}).lower(node)


class _Lowerer:
    def __init__(self, field_names: dict[str, str]) -> None:
        self.field_names = field_names

    def lower(self, node: Any) -> ir.Node:
        if isinstance(node, ConditionAND):
            return _flatten(ir.And, [self.lower(a) for a in node.args])
        if isinstance(node, ConditionOR):
            return _flatten(ir.Or, [self.lower(a) for a in node.args])
        if isinstance(node, ConditionNOT):
            return ir.Not(self.lower(node.args[0]))
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.match(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            return self.keyword(node.value)
        raise UnsupportedSigma(f"condition element {type(node).__name__} is not supported")

    def keyword(self, value: Any) -> ir.Node:
        """A keyword (field-less) value: found anywhere in the rendered message."""
        if isinstance(value, SigmaExpansion):
            return _flatten(ir.Or, [self.keyword(v) for v in value.values])
        if isinstance(value, SigmaRegularExpression):
            return self.match(KEYWORD_FIELD, value)
        if isinstance(value, SigmaString):
            if value.contains_placeholder():
                raise UnsupportedSigma("placeholder in a keyword search: define it in the placeholder file")
            parts = wildcards.normalise((ir.STAR, *_parts(KEYWORD_FIELD, value), ir.STAR))
            return wildcards.to_node(KEYWORD_FIELD, parts, isinstance(value, SigmaCasedString))
        if isinstance(value, SigmaNumber):
            return ir.Str(KEYWORD_FIELD, "contains", str(value.number))
        raise UnsupportedSigma(f"keyword search with a {type(value).__name__} value is not supported")

    def match(self, field: str | None, value: Any) -> ir.Node:  # noqa: C901 - one branch per Sigma type
        if field is None:
            return self.keyword(value)
        if isinstance(value, SigmaNull):
            return ir.Null(field)
        if isinstance(value, SigmaBool):
            return ir.Str(field, "eq", "true" if value.boolean else "false")
        if isinstance(value, SigmaNumber):
            if not isinstance(value.number, int):
                raise UnsupportedSigma(f"non-integer number {value.number} (field {field}) is not supported")
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
            return _flatten(ir.Or, [self.match(field, v) for v in value.values])
        if isinstance(value, SigmaCIDRExpression):
            return ir.Cidr(field, str(value.network))
        if isinstance(value, SigmaFieldReference):
            op = "startswith" if value.starts_with else "endswith" if value.ends_with else "eq"
            if value.starts_with and value.ends_with:
                op = "contains"
            return ir.FieldRef(field, self.field_names.get(value.field, value.field), op)
        if isinstance(value, SigmaString):
            if value.contains_placeholder():
                names = sorted({p.name for p in value.s if isinstance(p, Placeholder)})
                raise UnsupportedSigma(
                    f"|expand placeholder(s) {', '.join('%' + n + '%' for n in names)} (field {field}) "
                    "have no values: define them in a placeholder file"
                )
            return wildcards.to_node(field, _parts(field, value), isinstance(value, SigmaCasedString))
        raise UnsupportedSigma(f"value type {type(value).__name__} (field {field}) is not supported")


def _flatten(kind: type[ir.And] | type[ir.Or], items: list[ir.Node]) -> ir.Node:
    out: list[ir.Node] = []
    for item in items:
        if isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    return out[0] if len(out) == 1 else kind(tuple(out))


def _parts(field: str, value: SigmaString) -> tuple[object, ...]:
    """pySigma's parsed string (escapes already resolved) -> glob parts."""
    parts: list[object] = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(ir.STAR)
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(ir.ONE)
        elif isinstance(part, str):
            parts.append(part)
        else:
            raise UnsupportedSigma(f"string part {part!r} (field {field}) is not supported")
    return wildcards.normalise(parts)
