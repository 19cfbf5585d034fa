"""``iisdetect export --target qradar``: compile the Sigma rules into one QRadar AQL query."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from iisdetect.commands import add_rule_options, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.times import aql_last, parse_duration

TARGETS = ("qradar", "spark-sql", "databricks", "duckdb")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="compile the rules into a SIEM query (QRadar AQL)",
        description="Compile a ruleset into one AQL query with the seed's columns and a detection_type "
        "CASE generated from the rules. Property names come from mapping/qradar.yaml. See docs/aql.md.",
    )
    p.add_argument(
        "--target", choices=TARGETS, required=True,
        help="qradar (AQL), or spark-sql/databricks/duckdb (SQL over `iisdetect convert` Parquet)",
    )  # fmt: skip
    add_rule_options(p, "YAML allow-list, compiled into the query")
    p.add_argument("--last", metavar="DURATION", help="append LAST n MINUTES|HOURS|DAYS (e.g. 24h)")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument("-o", "--output", metavar="FILE", help="write the query to FILE, not stdout (--split: a folder)")
    p.add_argument("--split", action="store_true", help="one query per rule, as <rule id>.aql in the -o folder")
    p.add_argument(
        "--properties",
        metavar="FILE",
        help="write the custom event properties the query needs (JSON for QRadar's REST API; docs/aql.md)",
    )
    return p


def _last(text: str | None) -> str | None:
    """``--last`` in the one duration grammar every command shares, as AQL's LAST operand."""
    return aql_last(parse_duration(text)) if text else None


def load_export_rules(ruleset: str | None, extra: list[str], tuning_path: str | None) -> list[CompiledRule]:
    """The rules as hunt would run them, tuning compiled in; any rule warning stops an export."""
    from iisdetect.api import load_tuned_rules

    return load_tuned_rules(ruleset, extra, tuning_path)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    import json

    from iisdetect.exporters.qradar import Renderer, export_rule, export_rules
    from iisdetect.exporters.qradar_properties import definitions

    if args.split and not args.output:
        raise UsageError("--split writes one file per rule: give -o FOLDER")
    if args.target != "qradar" and (args.split or args.properties):
        raise UsageError("--split and --properties are for --target qradar")
    rules = load_export_rules(selected_ruleset(args), args.rules, args.tuning)
    mapping = load_mapping(args.qradar_mapping)
    renderer = Renderer(mapping)
    if args.target != "qradar":  # the lake targets: one SQL query over the canonical table (docs/lake.md)
        from iisdetect.api import export

        query = export(args.target, selected_ruleset(args), args.rules, args.tuning, args.last)
        if args.output:
            _write(Path(args.output), query)
        else:
            sys.stdout.write(query)
    elif args.split:
        folder = Path(args.output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {folder}: {exc.strerror}") from None
        for r in rules:
            _write(folder / f"{r.id}.aql", export_rule(r, mapping, _last(args.last), renderer))
    else:
        query = export_rules(rules, mapping, _last(args.last), renderer)
        if args.output:
            _write(Path(args.output), query)
        else:
            sys.stdout.write(query)
    if args.properties:
        _write(Path(args.properties), json.dumps(definitions(renderer.used, mapping), indent=2) + "\n")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for r in rules:
        err.print(Text(f"{r.detection_type}: {r.title} ({r.id})"))
    err.print(Text(f"{len(rules)} rule(s) exported"))
    return 0
