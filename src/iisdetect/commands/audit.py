"""``iisdetect audit PATH...``: audit an IIS server's configuration (and the DLLs it names) from a triage package."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from iisdetect.audit.findings import LEVELS
from iisdetect.audit.render import render_table
from iisdetect.audit.run import AuditOptions, AuditResult, audit
from iisdetect.report.hunt_output import render_csv, render_json, render_ndjson
from iisdetect.report.summary import print_summary, summary_dict
from iisdetect.report.writer import open_output

FORMATS = ("table", "json", "ndjson", "csv")  # hunt's timesketch/navigator describe events, not config entries


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "audit",
        help="audit applicationHost.config, web.config, config history and module DLLs",
        description="Find IIS configuration files in folders, .zip/.tar triage packages (KAPE, Velociraptor) or "
        "plain copies; list every global module, module, ISAPI filter, ISAPI/CGI restriction and handler "
        "processor; judge each against the module baseline; diff CFGHISTORY snapshots; triage the DLLs found.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="triage package, folder or configuration file")
    p.add_argument("--dll", action="append", default=[], metavar="FILE", help="also triage this DLL (matched by name)")
    p.add_argument("--no-dll-triage", action="store_true", help="do not read DLLs from the package")
    p.add_argument("--host", metavar="NAME", help="host name for the alerts (default: the package's name)")
    p.add_argument(
        "--min-level",
        choices=LEVELS,
        default="informational",
        help="hide findings below this level (default: informational = the full inventory)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write results to FILE instead of stdout")
    return p


def run(args: argparse.Namespace) -> int:
    opts = AuditOptions(paths=args.paths, dlls=args.dll, host=args.host, triage_dlls=not args.no_dll_triage)
    result = audit(opts)
    floor = LEVELS.index(args.min_level)
    shown = [a for a in result.alerts if LEVELS.index(a.level) >= floor]
    err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 100)
    with open_output(args.output) as out:
        _render(args, result, shown, out)
    notes = list(result.notes)
    if len(shown) < len(result.alerts):
        notes.append(f"{len(result.alerts) - len(shown)} finding(s) below --min-level {args.min_level} not shown")
    print_summary(result.stats, err, notes, alerts=len(result.alerts))
    return 0


def _render(args: argparse.Namespace, result: AuditResult, shown: list, out) -> None:  # noqa: ANN001
    if args.format == "table":
        tty = out is sys.stdout and sys.stdout.isatty()
        console = Console(file=out, width=min(Console().width, 160) if tty else 110, highlight=False)
        render_table(shown, console)
    elif args.format == "json":
        extra = {"notes": result.notes}
        render_json(shown, [], summary_dict(result.stats, extra), out)
    elif args.format == "ndjson":
        render_ndjson(shown, [], out)
    else:
        render_csv(shown, [], out)
