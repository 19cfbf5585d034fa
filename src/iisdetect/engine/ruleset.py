"""Find and load Sigma rule files into ``CompiledRule`` objects.

Rulesets are folders of Sigma YAML under ``iisdetect/rulesets/`` (the single source of truth for detection
logic): ``seed`` (the QRadar seed reproduced faithfully), ``iis`` (the default ruleset) and
``all`` (both). Users add their own files or folders with ``--rules``. A rule that cannot be
evaluated exactly is never skipped silently: it is reported in ``LoadReport.warnings``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from iisdetect.baseline import compile as baseline_compile
from iisdetect.engine import ir
from iisdetect.engine.compile import (
    KEYWORD_FIELD,
    UnsupportedSigma,
    compile_condition,
    field_pipeline,
    placeholder_pipeline,
)
from iisdetect.errors import RuleError, UsageError
from iisdetect.mapping.logsources import LogsourceVariant, logsource_key, logsource_table
from iisdetect.model.event import SYSTEM_FIELDS
from iisdetect.model.userfiles import read_yaml
from iisdetect.rulesets import DEFAULT_RULESET, RULESETS, rules_root, ruleset_paths

__all__ = ["DEFAULT_RULESET", "RULESETS", "LoadReport", "load_rules", "load_ruleset", "rules_root", "ruleset_paths"]


@dataclass
class LoadReport:
    """``warnings``: rules not loaded (or files not read). ``notes``: rules loaded, with a caveat the
    user must know (a filter on a field one of the rule's log sources never has, a keyword search
    that only inputs with a rendered message can satisfy)."""

    rules: list[ir.CompiledRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_placeholders(path: str | Path) -> dict[str, list[str]]:
    """A placeholder file's ``|expand`` values: ``placeholders: {name: [value, ...]}`` (``%name%``)."""
    raw = read_yaml(path, "placeholder file")
    if not _is_placeholder_doc(raw):
        raise UsageError(f"placeholder file {path}: expected 'placeholders:' with a mapping of name: [values]")
    return _placeholder_values(raw["placeholders"], path)


def _placeholder_values(raw: object, path: str | Path) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        raise UsageError(f"placeholder file {path}: 'placeholders' must map names to values")
    out: dict[str, list[str]] = {}
    for name, values in raw.items():
        vals = values if isinstance(values, list) else [values]
        if not vals or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in vals):
            raise UsageError(f"placeholder file {path}: {name!r}: expected a string or a list of strings")
        out[str(name)] = [str(v) for v in vals]
    return out


def rule_files(paths: Iterable[Path]) -> list[Path]:
    from iisdetect.rulesets import find_rule_files

    out, missing = find_rule_files(paths)
    if missing is not None:
        raise UsageError(f"rule path not found: {missing}")
    return out


def load_ruleset(
    ruleset: str | None = DEFAULT_RULESET, extra: Sequence[str] = (), tuning: object | None = None
) -> list[ir.CompiledRule]:
    """Compile a named ruleset plus extra rule paths; raise on any problem (library use, tests)."""
    report = load_rules(ruleset, extra)
    if report.warnings:
        raise RuleError("; ".join(report.warnings))
    if tuning is not None:
        return [tuning.apply(r) for r in report.rules]  # type: ignore[attr-defined]
    return report.rules


def load_rules(
    ruleset: str | None, extra: Sequence[str] = (), placeholders: dict[str, list[str]] | None = None
) -> LoadReport:
    """Compile rules, collecting (not raising) per-rule problems as warnings for the CLI.

    A YAML file among the rule paths whose document is ``placeholders: {name: [values]}`` (and no
    ``detection``) defines ``|expand`` values for every rule loaded with it (``--rules vars.yml``),
    merged over ``placeholders``.
    """
    paths = ruleset_paths(ruleset) if ruleset else []
    files = rule_files([*paths, *(Path(e) for e in extra)])
    report = LoadReport()
    parsed = [(path, _read_docs(path, report)) for path in files]
    values = dict(placeholders or {})
    for path, docs in parsed:
        for doc in docs:
            if _is_placeholder_doc(doc):
                values.update(_placeholder_values(doc["placeholders"], path))
    seen: set[str] = set()
    for path, docs in parsed:
        for rule in _compile_docs(path, docs, report, ruleset_name(path), values or placeholders):
            if rule.id in seen:
                report.warnings.append(f"{path}: duplicate rule id {rule.id}; second copy ignored")
                continue
            seen.add(rule.id)
            report.rules.append(rule)
    return report


def ruleset_name(path: Path) -> str:
    return path.parent.name if path.parent.name in RULESETS else "custom"


def _is_placeholder_doc(doc: object) -> bool:
    return isinstance(doc, dict) and "placeholders" in doc and "detection" not in doc


def _read_docs(path: Path, report: LoadReport) -> list[object]:
    from iisdetect.model.userfiles import YamlRefused, load_documents, read_text_bounded

    try:  # bounded: an alias bomb or an oversized file is refused, not expanded
        return list(load_documents(read_text_bounded(path)))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, YamlRefused) as exc:
        report.warnings.append(f"{path}: cannot read rule file: {str(exc).splitlines()[0]}")
        return []


def _load_file(
    path: Path, report: LoadReport, ruleset: str, placeholders: dict[str, list[str]] | None = None
) -> list[ir.CompiledRule]:
    """One rule file alone (tests, scripts): its rules, problems in ``report``."""
    return _compile_docs(path, _read_docs(path, report), report, ruleset, placeholders)


def _compile_docs(
    path: Path, docs: list[object], report: LoadReport, ruleset: str, placeholders: dict[str, list[str]] | None
) -> list[ir.CompiledRule]:
    out = []
    for doc in docs:
        if doc is None or _is_placeholder_doc(doc):
            continue
        if not isinstance(doc, dict) or "detection" not in doc:
            kind = "correlation" if isinstance(doc, dict) and "correlation" in doc else "non-detection"
            report.warnings.append(f"{path}: {kind} Sigma documents are not supported; skipped")
            continue
        try:
            notes: list[str] = []
            out.append(compile_rule(baseline_compile.apply(doc), path, ruleset, placeholders, notes))
            report.notes.extend(f"{path}: rule {doc.get('title', '?')!r}: {n}" for n in notes)
        except (SigmaError, UnsupportedSigma, RuleError, KeyError, TypeError, ValueError, AttributeError) as exc:
            title = doc.get("title", "?")
            report.warnings.append(f"{path}: rule {title!r} skipped: {exc}")
    return out


def compile_rule(
    doc: dict,
    path: Path,
    ruleset: str = "custom",
    placeholders: dict[str, list[str]] | None = None,
    notes: list[str] | None = None,
) -> ir.CompiledRule:
    """One Sigma rule dict -> ``CompiledRule`` with one condition per logsource variant.

    ``placeholders`` fills ``|expand`` values; ``notes`` (when given) receives the caveats of a rule
    that compiled (see ``LoadReport.notes``).
    """
    base = SigmaRule.from_dict(doc)
    ls = base.logsource
    key = logsource_key(ls.category, ls.service, ls.product)
    variants_spec = logsource_table().get(key or "")
    if not variants_spec:
        raise UnsupportedSigma(_logsource_problem(ls.product, ls.category, ls.service))
    variants = []
    absent: list[set[str]] = []  # per variant: fields of the condition its source never has
    for spec in variants_spec:
        rule = SigmaRule.from_dict(doc)
        if placeholders is not None:
            placeholder_pipeline(placeholders).apply(rule)
        field_pipeline(spec).apply(rule)
        cond = compile_condition(rule, dict(spec.fields))
        if spec.conditions:
            extra = [ir.Or(tuple(ir.Str(f, "eq", v) for v in vals)) for f, vals in spec.conditions]
            cond = ir.And((*extra, cond))
        variants.append(ir.Variant(spec.source, cond))
        if notes is not None:
            notes.extend(_variant_notes(spec, cond))
            if spec.has_fields:  # positive tests only: filters have their own note above
                absent.append({f for f in _fields(cond) - _negated_fields(cond) if _unknown(spec, f)})
    if notes is not None and absent and len(absent) == len(variants_spec):
        nowhere = set.intersection(*absent)
        if nowhere:
            notes.append(
                f"field(s) {', '.join(sorted(nowhere))} exist in none of the rule's log sources "
                f"({', '.join(s.name for s in variants_spec)}): the tests on them never match"
            )
    if notes is not None and any(KEYWORD_FIELD in _fields(v.condition) for v in variants):
        notes.append(
            f"keyword search: matches only inputs with a rendered message ({KEYWORD_FIELD}); "
            "EVTX and event XML carry none"
        )
    custom = dict(base.custom_attributes or {})
    detection_type = str(custom.pop("detection_type", "") or base.title)
    role = str(custom.pop("correlation_role", "none"))
    if role not in ir.ROLES:
        raise RuleError(f"correlation_role {role!r} is not one of {', '.join(ir.ROLES)}")
    return ir.CompiledRule(
        id=str(base.id) if base.id else base.title,
        title=base.title,
        level=base.level.name.lower() if base.level else "medium",
        detection_type=detection_type,
        description=base.description or "",
        path=str(path),
        tags=tuple(f"{t.namespace}.{t.name}" for t in base.tags),
        falsepositives=tuple(base.falsepositives or ()),
        variants=tuple(variants),
        ruleset=ruleset,
        custom=custom,
        role=role,
    )


def _logsource_problem(product: str | None, category: str | None, service: str | None) -> str:
    where = f"(product={product}, category={category}, service={service})"
    if product not in (None, "windows"):
        return f"logsource {where}: product {product!r} is not Windows; iisdetect reads Windows event logs"
    if not category and not service:
        return f"logsource {where}: names neither a category nor a service"
    if product is None and category and category not in logsource_table():
        return f"logsource {where}: category {category!r} is not a Windows event log source"
    return f"logsource {where} is not in mapping/logsources.yaml"


def _fields(node: ir.Node) -> set[str]:
    out: set[str] = set()
    ir._collect_fields(node, out)
    return out


def _negated_fields(node: ir.Node, under_not: bool = False) -> set[str]:
    """Fields tested inside a NOT (a rule's filters)."""
    if isinstance(node, ir.And | ir.Or):
        out: set[str] = set()
        for item in node.items:
            out |= _negated_fields(item, under_not)
        return out
    if isinstance(node, ir.Not):
        return _negated_fields(node.item, not under_not)
    return _fields(node) if under_not else set()


def _unknown(spec: LogsourceVariant, name: str) -> bool:
    """A field the variant's source never has (System fields and the message are always there)."""
    return name not in spec.has_fields and name not in SYSTEM_FIELDS and name != KEYWORD_FIELD


def _variant_notes(spec: LogsourceVariant, cond: ir.Node) -> list[str]:
    """Filters naming a field the variant's source never has remove nothing there: say so."""
    if not spec.has_fields:
        return []
    missing = sorted(f for f in _negated_fields(cond) if _unknown(spec, f))
    if not missing:
        return []
    return [
        f"filter field(s) {', '.join(missing)} never present in {spec.name} events: those filters remove nothing there"
    ]


def ruleset_detection_types(name: str) -> dict[str, str]:
    """detection_type -> correlation_role declared by a built-in ruleset's files (YAML only, no compile).

    The simulator's scenario schema validates expected types against this, so adding a rule file
    is all it takes for scenarios to name its type.
    """
    out: dict[str, str] = {}
    for path in rule_files(ruleset_paths(name)):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and "detection" in doc:
                out[str(doc.get("detection_type") or doc.get("title"))] = str(doc.get("correlation_role", "none"))
    return out
