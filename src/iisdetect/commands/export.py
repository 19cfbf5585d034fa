"""``iisdetect export --target T``: compile the Sigma rules (tuning included) for a SIEM.

Every target renders the same IR (``exporters/``, ``lake/sql.py``), with its field names from ``mapping/<target>.yaml``.
What a target cannot express is listed on stderr (never dropped silently), with each query's size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from iisdetect.commands import add_rule_options, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.model.times import aql_last, parse_duration

SIEM_TARGETS = ("qradar", "splunk", "elastic-eql", "elastic-esql", "sentinel", "xdr", "sigma")
LAKE_TARGETS = ("spark-sql", "databricks", "duckdb")  # docs/lake.md
TARGETS = SIEM_TARGETS + LAKE_TARGETS
_MAPPING = {"splunk": "splunk", "elastic-eql": "elastic", "elastic-esql": "elastic", "sentinel": "sentinel",
            "xdr": "xdr"}  # fmt: skip
_WHAT = {
    "qradar": "one AQL query", "splunk": "savedsearches.conf", "elastic-eql": "Kibana rules NDJSON (EQL)",
    "elastic-esql": "Kibana rules NDJSON (ES|QL)", "sentinel": "Sentinel analytics rules (YAML or ARM)",
    "xdr": "Defender XDR custom detections (JSON)", "sigma": "a folder of Sigma rules with the tuning folded in",
    "spark-sql/databricks/duckdb": "one SQL query over `iisdetect convert` Parquet (docs/lake.md)",
}  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="compile the rules for a SIEM (QRadar, Splunk, Elastic, Sentinel, Defender XDR, Sigma) or a lake",
        description="Compile a ruleset (and a tuning file) into what a SIEM imports: "
        + "; ".join(f"{t}: {w}" for t, w in _WHAT.items())
        + ". Field names come from mapping/<target>.yaml. See docs/export-<target>.md.",
    )
    p.add_argument("--target", choices=TARGETS, required=True, help="what to write")
    add_rule_options(p, "YAML allow-list, compiled into the queries")
    p.add_argument("--last", metavar="DURATION", help="qradar: append LAST <duration> (e.g. 24h, 2w), as hunt reads it")
    p.add_argument("--format", choices=("yaml", "arm"), default="yaml", help="sentinel: YAML rules or ARM template")
    p.add_argument("--mapping", metavar="FILE", help="YAML laid over the target's mapping/<target>.yaml")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument("-o", "--output", metavar="PATH", help="write to PATH instead of stdout (sigma: a folder, required)")
    return p


def _last(text: str | None) -> str | None:
    """``--last`` in the one duration grammar every command shares, as AQL's LAST operand."""
    return aql_last(parse_duration(text)) if text else None


def load_export_rules(ruleset: str | None, extra: list[str], tuning_path: str | None) -> list[CompiledRule]:
    """The rules as hunt would run them, tuning compiled in; any rule warning stops an export."""
    from iisdetect.api import load_tuned_rules

    return load_tuned_rules(ruleset, extra, tuning_path)


def render(target: str, rules: list[CompiledRule], args: argparse.Namespace):  # noqa: ANN201
    """(text, report) for a text target; the sigma target writes a folder and returns ("", report)."""
    from iisdetect.exporters.base import ExportReport
    from iisdetect.mapping.targets import load_target_mapping

    if target in LAKE_TARGETS:
        from iisdetect.api import export

        return export(target, selected_ruleset(args), args.rules, args.tuning, args.last), ExportReport(target)
    if target == "qradar":
        from iisdetect.exporters.qradar import export_rules
        from iisdetect.mapping.qradar import load_mapping

        return export_rules(rules, load_mapping(args.qradar_mapping), _last(args.last)), ExportReport(target)
    if target == "sigma":
        from iisdetect.exporters.sigma import export_sigma_dir

        if not args.output:
            raise UsageError("--target sigma writes one file per rule: give a folder with -o DIR")
        report = ExportReport(target)
        try:
            export_sigma_dir(rules, args.output, report)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
        return "", report
    m = load_target_mapping(_MAPPING[target], args.mapping)
    report = ExportReport(m.name, limits=m.limits)
    if target == "splunk":
        from iisdetect.exporters.splunk import export_savedsearches

        return export_savedsearches(rules, m, report), report
    if target == "elastic-eql":
        from iisdetect.exporters.elastic_eql import export_ndjson

        return export_ndjson(rules, m, report), report
    if target == "elastic-esql":
        from iisdetect.exporters.elastic_esql import export_ndjson as esql_ndjson

        return esql_ndjson(rules, m, report), report
    if target == "sentinel":
        from iisdetect.exporters.sentinel import export_arm, export_yaml

        return (export_arm if args.format == "arm" else export_yaml)(rules, m, report), report
    from iisdetect.exporters.xdr import export_json

    return export_json(rules, m, report), report


def run(args: argparse.Namespace) -> int:
    if args.last and args.target not in ("qradar", *LAKE_TARGETS):
        raise UsageError("--last applies to --target qradar (other targets carry their schedule in the rule)")
    rules = load_export_rules(selected_ruleset(args), args.rules, args.tuning)
    text, report = render(args.target, rules, args)
    if args.target != "sigma":
        if args.output:
            try:
                Path(args.output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
        else:
            sys.stdout.write(text)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for r in rules:
        err.print(Text(f"{r.detection_type}: {r.title} ({r.id})"))
    for line in report.lines():
        err.print(Text(f"note: {line}"))
    err.print(Text(f"{len(rules)} rule(s) exported for {args.target}"))
    return 0
