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

from iisdetect.engine import ir
from iisdetect.engine.compile import UnsupportedSigma, compile_condition, field_pipeline
from iisdetect.errors import RuleError, UsageError
from iisdetect.mapping.logsources import logsource_key, logsource_table
from iisdetect.rulesets import DEFAULT_RULESET, RULESETS, rules_root, ruleset_paths

__all__ = ["DEFAULT_RULESET", "RULESETS", "LoadReport", "load_rules", "load_ruleset", "rules_root", "ruleset_paths"]

@dataclass
class LoadReport:
    rules: list[ir.CompiledRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml") and q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"rule path not found: {p}")
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


def load_rules(ruleset: str | None, extra: Sequence[str] = ()) -> LoadReport:
    """Compile rules, collecting (not raising) per-rule problems as warnings for the CLI."""
    paths = ruleset_paths(ruleset) if ruleset else []
    files = rule_files([*paths, *(Path(e) for e in extra)])
    report = LoadReport()
    seen: set[str] = set()
    for path in files:
        for rule in _load_file(path, report, ruleset_name(path)):
            if rule.id in seen:
                report.warnings.append(f"{path}: duplicate rule id {rule.id}; second copy ignored")
                continue
            seen.add(rule.id)
            report.rules.append(rule)
    return report


def ruleset_name(path: Path) -> str:
    return path.parent.name if path.parent.name in RULESETS else "custom"


def _load_file(path: Path, report: LoadReport, ruleset: str) -> list[ir.CompiledRule]:
    try:
        text = path.read_text(encoding="utf-8")
        docs = list(yaml.safe_load_all(text))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        report.warnings.append(f"{path}: cannot read rule file: {str(exc).splitlines()[0]}")
        return []
    out = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict) or "detection" not in doc:
            kind = "correlation" if isinstance(doc, dict) and "correlation" in doc else "non-detection"
            report.warnings.append(f"{path}: {kind} Sigma documents are not supported; skipped")
            continue
        try:
            out.append(compile_rule(doc, path, ruleset))
        except (SigmaError, UnsupportedSigma, RuleError, KeyError, TypeError, ValueError) as exc:
            title = doc.get("title", "?")
            report.warnings.append(f"{path}: rule {title!r} skipped: {exc}")
    return out


def compile_rule(doc: dict, path: Path, ruleset: str = "custom") -> ir.CompiledRule:
    """One Sigma rule dict -> ``CompiledRule`` with one condition per logsource variant."""
    base = SigmaRule.from_dict(doc)
    ls = base.logsource
    key = logsource_key(ls.category, ls.service, ls.product)
    variants_spec = logsource_table().get(key or "")
    if not variants_spec:
        raise UnsupportedSigma(
            f"logsource (product={ls.product}, category={ls.category}, service={ls.service}) "
            "is not in mapping/logsources.yaml"
        )
    variants = []
    for spec in variants_spec:
        rule = SigmaRule.from_dict(doc)
        field_pipeline(spec).apply(rule)
        cond = compile_condition(rule)
        if spec.conditions:
            extra = [ir.Or(tuple(ir.Str(f, "eq", v) for v in vals)) for f, vals in spec.conditions]
            cond = ir.And((*extra, cond))
        variants.append(ir.Variant(spec.source, cond))
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
