"""``iisdetect stack PATH...``: least-frequency-of-occurrence stacking of w3wp.exe DLL loads and module
registrations/config changes, counted by host, rarest first (``--queries TARGET``: the same hunts for an
``export`` target; ``--aql`` = ``--queries qradar``)."""

from __future__ import annotations

import argparse
import csv
import sys

import orjson
from rich.console import Console
from rich.text import Text

from iisdetect.errors import UsageError
from iisdetect.hunting.stack import KINDS, StackEntry, stack_events
from iisdetect.report.hunt_output import csv_cell, safe

FORMATS = ("table", "json", "csv")
#: export's targets: QRadar AQL, the SIEMs' languages, and SQL over the lake table (iisdetect convert)
QUERY_TARGETS = ("qradar", "splunk", "elastic-esql", "sentinel", "xdr", "duckdb", "spark-sql", "databricks")
#: export targets that cannot express a stack (no aggregation): a one-line error saying what to use
NO_STACK = {
    "elastic-eql": "EQL cannot aggregate (no count/group by); use --queries elastic-esql",
    "sigma": "Sigma rules have no aggregation to stack with; use a SIEM target (e.g. --queries splunk)",
}
CSV_COLUMNS = ("kind", "host_count", "events", "first_seen", "last_seen", "baseline", "flagged", "item", "detail",
               "signer", "via", "hosts", "reasons")  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "stack",
        help="stack w3wp.exe DLL loads and module registrations by host, rarest first",
        description="Hunting by least frequency of occurrence: every DLL w3wp.exe loaded (path, SHA256, signer) "
        "and every module registration or IIS config change, counted by host, rarest first, with first/last "
        "seen; entries not known to the module baseline are flagged.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="log files or folders ('-' reads stdin)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--kind", choices=KINDS, action="append", help="only these kinds (repeatable)")
    p.add_argument("--flagged", action="store_true", help="only entries not known to the module baseline")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="table: show the N rarest per kind (0 = all)")
    p.add_argument(
        "--queries", metavar="TARGET",
        help=f"print the same stacking hunts for a SIEM/lake target ({', '.join(QUERY_TARGETS)}) and exit",
    )  # fmt: skip
    p.add_argument("--aql", action="store_true", help="same as --queries qradar")
    p.add_argument("--days", type=int, default=30, metavar="N", help="--queries: the last N days (default 30)")
    return p


def run(args: argparse.Namespace) -> int:
    from iisdetect.commands.hunt import open_output

    target = "qradar" if args.aql else args.queries
    if target:
        return print_queries(target, args.days, args.output)
    if not args.paths:
        raise UsageError("stack needs at least one PATH (or --aql)")
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events
    from iisdetect.report.summary import summary_dict

    stats = RunStats()
    entries = select(stack_events(iter_events(args.paths, stats)), args.kind, args.flagged)
    with open_output(args.output) as out:
        if args.format == "json":
            doc = {"stack": [e.to_dict() for e in entries], "summary": summary_dict(stats)}
            out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
        elif args.format == "csv":
            write_csv(entries, out)
        else:
            tty = out is sys.stdout and sys.stdout.isatty()
            render_table(entries, Console(file=out, width=160 if tty else 120, highlight=False), args.limit)
    print_accounting(stats, Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 100))
    return 0


def print_queries(target: str, days: int, output: str | None) -> int:
    """The stacking hunts for ``target``; hunts the target has no source for are named, not dropped."""
    from iisdetect.commands.hunt import open_output
    from iisdetect.hunting.stack_queries import lake_queries, qradar_queries
    from iisdetect.hunting.stack_queries_siem import SIEM_TARGETS, comment, siem_queries

    if target in NO_STACK:
        raise UsageError(f"--queries {target}: {NO_STACK[target]}")
    if target not in QUERY_TARGETS:
        raise UsageError(f"--queries: unknown target {target!r} (choose from {', '.join(QUERY_TARGETS)})")
    if days <= 0:
        raise UsageError("--days must be positive")
    omitted: list[str] = []
    if target == "qradar":
        queries = qradar_queries(days=days)
    elif target in SIEM_TARGETS:
        queries, omitted = siem_queries(target, days)
    else:
        queries = lake_queries(target, days)
    with open_output(output) as out:
        for name, query in queries.items():
            out.write(f"{comment(target, name)}\n{query}\n\n")
        for note in omitted:
            out.write(comment(target, note) + "\n")
    for note in omitted:
        print(f"stack --queries: {note}", file=sys.stderr)
    return 0


def print_accounting(stats, console: Console) -> None:  # noqa: ANN001 - RunStats
    """What was read and what was skipped (file and position), so nothing is lost silently."""
    fmts = ", ".join(f"{k} {v}" for k, v in sorted(stats.formats.items())) or "none"
    console.print(
        Text(f"files: {stats.files} ({fmts})" + (f", {stats.files_failed} unreadable" if stats.files_failed else ""))
    )
    console.print(
        Text(f"records: {stats.records_seen} seen, {stats.records_read} read, {stats.records_skipped} skipped")
    )
    for skip in stats.skips[:10]:
        console.print(
            Text(f"  {safe(skip.source)} @ {safe(skip.locator)}: {safe(skip.reason)} {safe(skip.detail)}"[:300])
        )
    if len(stats.skips) > 10:
        console.print(Text(f"  ... {len(stats.skips) - 10} more (see --format json summary)"))


def select(entries: list[StackEntry], kinds: list[str] | None, flagged: bool) -> list[StackEntry]:
    return [e for e in entries if (not kinds or e.kind in kinds) and (not flagged or e.flagged)]


def write_csv(entries: list[StackEntry], out) -> None:  # noqa: ANN001 - a text stream
    w = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for e in entries:
        row = e.to_dict()
        row["via"] = "; ".join(row["via"])
        row["hosts"] = "; ".join(f"{h}={n}" for h, n in row["hosts"].items())
        row["reasons"] = "; ".join(row["reasons"])
        w.writerow({k: csv_cell(v) for k, v in row.items()})


def render_table(entries: list[StackEntry], console: Console, limit: int = 0) -> None:
    """Per kind, one line per entry (hosts, events, first/last seen, flag) and the item indented below."""
    if not entries:
        console.print("Nothing to stack (no w3wp.exe loads, registrations or IIS config changes read).")
        return
    for kind in KINDS:
        rows = [e for e in entries if e.kind == kind]
        if not rows:
            continue
        console.print(Text(f"{kind} ({len(rows)}, rarest first)", style="bold"))
        for e in rows[: limit or None]:
            line = Text(f"  {len(e.hosts):>3} host(s) {e.events:>5} event(s)  {e.first[:19]} .. {e.last[:19]}  ")
            line.append(("! " if e.flagged else "  ") + e.baseline, style="yellow" if e.flagged else "dim")
            console.print(line)
            extra = "  ".join(x for x in (e.detail, e.signer) if x)
            console.print(Text("      " + safe(e.item) + (f"  [{safe(extra)}]" if extra else "")))
        if limit and len(rows) > limit:
            console.print(Text(f"  ... {len(rows) - limit} more (--limit 0 shows all)", style="dim"))
        console.print()
