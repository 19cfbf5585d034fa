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

from iisdetect.commands import add_rule_options, add_selection_options, options_selection, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.model.times import aql_last, parse_duration
from iisdetect.report.writer import open_output

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
    add_selection_options(p)
    p.add_argument("--last", metavar="DURATION", help="qradar: append LAST <duration> (e.g. 24h, 2w), as hunt reads it")
    p.add_argument("--format", choices=("yaml", "arm"), default="yaml", help="sentinel: YAML rules or ARM template")
    p.add_argument("--mapping", metavar="FILE", help="YAML laid over the target's mapping/<target>.yaml")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument(
        "-o", "--output", metavar="PATH",
        help="write to PATH instead of stdout (sigma and qradar --split: a folder, required)",
    )  # fmt: skip
    p.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="export the rules that compile and list the others on stderr (default: any unsupported rule is an error)",
    )
    p.add_argument("--split", action="store_true", help="qradar: one query per rule, as <rule id>.aql in the -o folder")
    p.add_argument(
        "--properties",
        metavar="FILE",
        help="qradar: write the custom event properties the query needs (JSON for QRadar's REST API; docs/aql.md)",
    )
    return p


def _last(text: str | None) -> str | None:
    """``--last`` in the one duration grammar every command shares, as AQL's LAST operand."""
    return aql_last(parse_duration(text)) if text else None


def load_export_rules(
    ruleset: str | None, extra: list[str], tuning_path: str | None, skipped: list[str] | None = None
) -> list[CompiledRule]:
    """The rules as hunt would run them, tuning compiled in; a rule warning stops an export unless
    ``skipped`` collects it (``--skip-unsupported``)."""
    from iisdetect.api import load_tuned_rules

    return load_tuned_rules(ruleset, extra, tuning_path, skipped)


def render(target: str, rules: list[CompiledRule], args: argparse.Namespace):  # noqa: ANN201
    """(text, report) for a text target; the sigma target writes a folder and returns ("", report)."""
    from iisdetect.exporters.base import ExportReport
    from iisdetect.mapping.targets import load_target_mapping

    if target in LAKE_TARGETS:  # one SQL query over the canonical table (docs/lake.md)
        from iisdetect.lake.sql import LAKE_TARGETS as DIALECTS
        from iisdetect.lake.sql import expressible, ruleset_query

        if args.last:
            raise UsageError(f"--last is not supported for {target}: filter TimeCreated in the job that runs it")
        untuned = options_selection(args).apply(load_export_rules(selected_ruleset(args), args.rules, None, []))
        skipped = getattr(args, "skipped", None)
        if skipped is not None:  # --skip-unsupported: leave out what SQL cannot express, by name
            untuned, refused = expressible(untuned, DIALECTS[target])
            skipped.extend(refused)
            ids = {r.id for r in untuned}
            rules = [r for r in rules if r.id in ids]
            args.exported_ids = ids
            if not untuned:
                raise UsageError(f"no rule left to export ({len(skipped)} skipped as unsupported)")
        return ruleset_query(untuned, rules if args.tuning else None, DIALECTS[target]), ExportReport(target)
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


def _write(path: Path, text: str) -> None:
    """Atomically (report/writer.py): a failed export never truncates an earlier one."""
    with open_output(str(path)) as out:
        out.write(text)


def _qradar(rules: list[CompiledRule], args: argparse.Namespace) -> str:
    """The AQL (one query, or with --split one file per rule), and --properties' definitions."""
    import json

    from iisdetect.exporters.qradar import Renderer, export_rule, export_rules
    from iisdetect.exporters.qradar_properties import definitions
    from iisdetect.mapping.qradar import load_mapping

    mapping = load_mapping(args.qradar_mapping)
    renderer = Renderer(mapping)
    text = ""
    if args.split:
        folder = Path(args.output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {folder}: {exc.strerror}") from None
        for r in rules:
            _write(folder / f"{r.id}.aql", export_rule(r, mapping, _last(args.last), renderer))
    else:
        text = export_rules(rules, mapping, _last(args.last), renderer)
    if args.properties:
        _write(Path(args.properties), json.dumps(definitions(renderer.used, mapping), indent=2) + "\n")
    return text


def run(args: argparse.Namespace) -> int:
    from iisdetect.exporters.base import ExportReport

    if args.last and args.target not in ("qradar", *LAKE_TARGETS):
        raise UsageError("--last applies to --target qradar (other targets carry their schedule in the rule)")
    if args.split and not args.output:
        raise UsageError("--split writes one file per rule: give -o FOLDER")
    if args.target != "qradar" and (args.split or args.properties):
        raise UsageError("--split and --properties are for --target qradar")
    skipped: list[str] | None = [] if args.skip_unsupported else None
    args.skipped = skipped
    rules = options_selection(args).apply(load_export_rules(selected_ruleset(args), args.rules, args.tuning, skipped))
    if not rules:
        raise UsageError("no rule left to export" + (f" ({len(skipped)} skipped as unsupported)" if skipped else ""))
    if args.target == "qradar":
        text, report = _qradar(rules, args), ExportReport("qradar")
    else:
        text, report = render(args.target, rules, args)
    if args.target != "sigma" and not args.split:
        if args.output:
            _write(Path(args.output), text)
        else:
            sys.stdout.write(text)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if getattr(args, "exported_ids", None) is not None:
        rules = [r for r in rules if r.id in args.exported_ids]
    for r in rules:
        err.print(Text(f"{r.detection_type}: {r.title} ({r.id})"))
    for line in report.lines():
        err.print(Text(f"note: {line}"))
    for line in skipped or ():
        err.print(Text(f"skipped: {line}"))
    tail = f", {len(skipped)} skipped as unsupported" if skipped else ""
    if report.dropped:
        tail += f", {len(report.dropped)} left out (no {args.target} source for any variant)"
    err.print(Text(f"{len(rules) - len(report.dropped)} rule(s) exported for {args.target}{tail}"))
    return 0
