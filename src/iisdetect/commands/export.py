"""``iisdetect export --target qradar``: compile the Sigma rules into one QRadar AQL query."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from iisdetect.commands import add_rule_options, add_selection_options, options_selection, selected_ruleset
from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.times import aql_last, parse_duration
from iisdetect.report.writer import open_output

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
    add_selection_options(p)
    p.add_argument("--last", metavar="DURATION", help="append LAST n MINUTES|HOURS|DAYS (e.g. 24h)")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument("-o", "--output", metavar="FILE", help="write the query to FILE instead of stdout")
    return p


def _last(text: str | None) -> str | None:
    """``--last`` in the one duration grammar every command shares, as AQL's LAST operand."""
    return aql_last(parse_duration(text)) if text else None


def load_export_rules(ruleset: str | None, extra: list[str], tuning_path: str | None) -> list[CompiledRule]:
    """The rules as hunt would run them, tuning compiled in; any rule warning stops an export."""
    from iisdetect.api import load_tuned_rules

    return load_tuned_rules(ruleset, extra, tuning_path)


def run(args: argparse.Namespace) -> int:
    from iisdetect.exporters.qradar import export_rules

    selection = options_selection(args)
    rules = selection.apply(load_export_rules(selected_ruleset(args), args.rules, args.tuning))
    if args.target == "qradar":
        query = export_rules(rules, load_mapping(args.qradar_mapping), _last(args.last))
    else:  # the lake targets: one SQL query over the canonical table (docs/lake.md)
        from iisdetect.lake.sql import LAKE_TARGETS, ruleset_query

        if args.last:
            raise UsageError(f"--last is not supported for {args.target}: filter TimeCreated in the job that runs it")
        untuned = selection.apply(load_export_rules(selected_ruleset(args), args.rules, None))
        query = ruleset_query(untuned, rules if args.tuning else None, LAKE_TARGETS[args.target])
    with open_output(args.output) as out:
        out.write(query)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for r in rules:
        err.print(Text(f"{r.detection_type}: {r.title} ({r.id})"))
    err.print(Text(f"{len(rules)} rule(s) exported"))
    return 0
