"""``iisdetect aql``: run (or lint) a QRadar AQL query offline over Windows event logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from iisdetect import __version__
from iisdetect.aql import Emulator, LocalData, Options, ms_to_iso
from iisdetect.aql.lint import lint
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.stats import RunStats
from iisdetect.model.times import parse_instant
from iisdetect.report.rows import FORMATS, render
from iisdetect.report.writer import open_output, safe


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "aql",
        help="run a QRadar AQL query offline over event logs (or --lint it)",
        description="Load events into a QRadar-shaped 'events' table (DuckDB) and run an AQL query on it. "
        "Semantics, switches and limits: docs/aql.md.",
    )
    p.add_argument("args", nargs="*", metavar="QUERY|PATH", help="the AQL query (unless --file), then log paths")
    p.add_argument("--file", metavar="F", help="read the query from file F ('-' = stdin)")
    p.add_argument("--db", metavar="FILE", help="DuckDB file: load PATHs into it, or query what it holds")
    p.add_argument("--lint", action="store_true", help="report the query's problems instead of running it")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write results to FILE instead of stdout")
    p.add_argument("--now", metavar="T", help="'now' for LAST/NOW() (ISO, or 'now'); default: newest event")
    p.add_argument(
        "--backslash-escapes",
        action="store_true",
        help="read '\\\\' in string literals as one backslash (NOT real AQL; what the seed's author meant)",
    )
    p.add_argument(
        "--sysmon-logsourcetypeid",
        type=int,
        metavar="N",
        help="logsourcetypeid of Sysmon rows (default: their devicetype, 12, as on QRadar)",
    )
    p.add_argument(
        "--seed-compat",
        action="store_true",
        help="the seed query's dialect: --backslash-escapes --sysmon-logsourcetypeid 1011",
    )
    p.add_argument("--matches-search", action="store_true", help="MATCHES/IMATCHES search instead of whole-string")
    p.add_argument(
        "--qradar-default-window",
        action="store_true",
        help="a query without LAST/START covers the last 5 minutes, as on QRadar (default: all events)",
    )
    p.add_argument("--reference-sets", metavar="FILE", help="YAML/JSON {set name: [values]} for REFERENCESETCONTAINS")
    p.add_argument("--reference-data", metavar="FILE", help="YAML/JSON: sets, maps, tables (REFERENCE*)")
    p.add_argument("--network-hierarchy", metavar="FILE", help="YAML/JSON {network name: [CIDR]} for NETWORKNAME")
    p.add_argument("--log-source-groups", metavar="FILE", help="YAML/JSON {group: [log source name/glob]}")
    p.add_argument("--qradar-mapping", metavar="FILE", help="YAML laid over mapping/qradar.yaml")
    p.add_argument("--show-sql", action="store_true", help="print the DuckDB SQL on stderr")
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes that read and load PATHs (default 0 = one per usable core when they exceed 32 MiB, "
        "else 1; the table is the same either way: docs/aql.md)",
    )
    from iisdetect.commands.hunt import add_limit_option

    add_limit_option(p)
    return p


def _query_and_paths(args: argparse.Namespace) -> tuple[str, list[str]]:
    if args.file:
        from iisdetect.aql.guard import read_query_file

        return read_query_file(args.file), list(args.args)
    if not args.args:
        raise UsageError("give a QUERY (or --file F)")
    return args.args[0], list(args.args[1:])


def run(args: argparse.Namespace) -> int:
    from iisdetect.commands.hunt import apply_limits

    apply_limits(args.limit)
    query, paths = _query_and_paths(args)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    mapping = load_mapping(args.qradar_mapping)
    if args.lint:
        findings = lint(query, mapping)
        for f in findings:
            sys.stdout.write(safe(f.line()) + "\n")
        sys.stdout.write(f"{len(findings)} finding(s)\n")
        return 1 if any(f.severity == "error" for f in findings) else 0
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (auto) or a positive number")
    if not paths and not args.db:
        raise UsageError("give log PATHs to load, or --db FILE holding loaded events")
    if args.db and not paths and not Path(args.db).is_file():
        raise UsageError(f"--db {args.db} does not exist: load PATHs into it first")
    type_id = args.sysmon_logsourcetypeid
    if args.seed_compat and type_id is None:
        type_id = 1011
    now_ms = int(parse_instant(args.now).timestamp() * 1000) if args.now else None
    options = Options(
        backslash_escapes=args.backslash_escapes or args.seed_compat,
        matches_search=args.matches_search,
        default_last_ms=5 * 60_000 if args.qradar_default_window else None,
    )
    local = LocalData(args.reference_sets, args.reference_data, args.network_hierarchy, args.log_source_groups)
    emu = Emulator(args.db, mapping, options, type_id, now_ms=now_ms, local=local)
    try:
        stats = RunStats()
        if paths:
            from iisdetect.aql.parallel_load import auto_jobs
            from iisdetect.report.summary import print_accounting

            n = emu.load_files(paths, stats, args.jobs or auto_jobs(paths))
            err.print(Text(f"loaded {n} events ({stats.records_skipped} records skipped)"))
            print_accounting(stats, err, more="counted above, not listed")
            for warning in stats.warnings:
                err.print(Text(f"warning: {safe(warning)}"))
            for note in emu.notes:
                err.print(Text(f"note: {note}"))
        result = emu.query(query)
    finally:
        emu.close()
    if args.show_sql:
        err.print(Text(result.sql))
    start, stop = result.time_range
    window = "all events" if start is None else f"{ms_to_iso(start)} .. {ms_to_iso(stop)} (stop exclusive)"
    err.print(Text(f"now = {ms_to_iso(result.now_ms)} ({result.now_source}); time range: {window}"))
    meta = {"version": __version__, "now": ms_to_iso(result.now_ms), "now_source": result.now_source,
            "time_range": [start, stop]}  # fmt: skip
    with open_output(args.output) as out:
        render(args.format, result.columns, result.rows, out, meta)
    err.print(Text(f"{len(result.rows)} row(s)"))
    return 0
