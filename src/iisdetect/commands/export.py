"""``iisdetect export --target qradar``: compile the Sigma rules into one QRadar AQL query."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from iisdetect.commands import add_rule_options, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.engine.ruleset import load_rules
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import load_mapping
from iisdetect.report.writer import open_output
from iisdetect.tuning.entries import load_tuning

TARGETS = ("qradar",)
_UNITS = {"m": "MINUTES", "h": "HOURS", "d": "DAYS"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="compile the rules into a SIEM query (QRadar AQL)",
        description="Compile a ruleset into one AQL query with the seed's columns and a detection_type "
        "CASE generated from the rules. Property names come from mapping/qradar.yaml. See docs/aql.md.",
    )
    p.add_argument("--target", choices=TARGETS, required=True, help="query language (qradar = AQL)")
    add_rule_options(p, "YAML allow-list, compiled into the query")
    p.add_argument("--last", metavar="DURATION", help="append LAST n MINUTES|HOURS|DAYS (e.g. 24h)")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument("-o", "--output", metavar="FILE", help="write the query to FILE instead of stdout")
    return p


def _last(text: str | None) -> str | None:
    if not text:
        return None
    unit = _UNITS.get(text[-1:].lower())
    if unit is None or not text[:-1].isdigit():
        raise UsageError(f"--last {text!r}: use a whole number of m, h or d (e.g. 24h)")
    return f"{int(text[:-1])} {unit}"


def load_export_rules(ruleset: str | None, extra: list[str], tuning_path: str | None) -> list[CompiledRule]:
    """The rules as hunt would run them, tuning compiled in; any rule warning stops an export."""
    report = load_rules(ruleset, extra)
    if report.warnings:
        raise UsageError("; ".join(report.warnings))
    if not report.rules:
        raise UsageError("no rules to export")
    if not tuning_path:
        return report.rules
    if not Path(tuning_path).is_file():
        raise UsageError(f"tuning file not found: {tuning_path}")
    tuning = load_tuning(tuning_path)
    return [tuning.apply(r) for r in report.rules]


def run(args: argparse.Namespace) -> int:
    from iisdetect.export.qradar import export_rules

    rules = load_export_rules(selected_ruleset(args), args.rules, args.tuning)
    query = export_rules(rules, load_mapping(args.qradar_mapping), _last(args.last))
    with open_output(args.output) as out:
        out.write(query)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for r in rules:
        err.print(Text(f"{r.detection_type}: {r.title} ({r.id})"))
    err.print(Text(f"{len(rules)} rule(s) exported"))
    return 0
