"""``iisdetect hunt PATH...``: run a ruleset over logs and report alerts grouped into incidents."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson
from rich.console import Console

from iisdetect.commands import add_rule_options, add_selection_options, options_selection, selected_ruleset
from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import Alert, iso_ms
from iisdetect.hunting.run import HuntOptions, HuntResult, hunt
from iisdetect.model.times import format_iso, parse_duration, parse_instant
from iisdetect.report.hunt_output import (
    FORMATS,
    CsvWriter,
    ndjson_line,
    ndjson_summary_line,
    render_csv,
    render_json,
    render_ndjson,
    render_table,
)
from iisdetect.report.navigator import render_navigator
from iisdetect.report.summary import EXIT_NO_RECORDS, print_summary, summary_dict
from iisdetect.report.timesketch import render_timesketch, timesketch_line
from iisdetect.report.writer import open_output, silence_stdout


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "hunt",
        help="detect malicious IIS components in event logs",
        description="Read EVTX / XML / JSON logs (files, folders, .zip, .gz, '-' for stdin), run the rules, "
        "report alerts grouped into per-host incidents, and end with an accounting on stderr. Exit codes: 0 the run "
        "completed (alerts or not), 2 unusable arguments, 3 zero records were read (nothing was searched).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders; '-' reads stdin")
    add_rule_options(p, "YAML allow-list (see examples/tuning.example.yaml)")
    p.add_argument("--show-suppressed", action="store_true", help="also output alerts the tuning suppressed")
    add_selection_options(p)
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: table); timesketch = JSONL for Timesketch, navigator = ATT&CK Navigator "
        "layer; see docs/output-formats.md",
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write results to FILE (atomically: a failed run leaves FILE as it was)"
    )
    p.add_argument("--width", type=int, metavar="N", help="table width (default: the terminal's, else 100)")
    p.add_argument("--since", metavar="T", help="only events at or after T (ISO, UTC if no offset)")
    p.add_argument("--until", metavar="T", help="only events at or before T")
    p.add_argument(
        "--last",
        metavar="DURATION",
        help="only the last DURATION (30m, 24h, 7d) before --now, or before the newest event read",
    )
    p.add_argument("--now", metavar="T", help="anchor for --last ('now' = wall clock); default: newest event")
    p.add_argument("--window", default="1h", metavar="DURATION", help="correlation window (default: 1h)")
    p.add_argument("--no-correlate", action="store_true", help="list alerts without grouping into incidents")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    add_limit_option(p)
    p.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="do not look for events read twice (same Computer/Channel/EventRecordID/TimeCreated, e.g. VSS "
        "copies); by default they are counted once when more than one file is read",
    )
    p.add_argument(
        "--no-prefilter",
        action="store_true",
        help="decode every record: no EventID/channel routing and no literal prefilter before decoding "
        "(to rule them out when debugging; alerts are the same either way, docs/hunt.md)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default 0 = one per usable core when the input exceeds 256 MiB, else 1; "
        "at most 2 per core and one per work unit: docs/hunting.md)",
    )
    p.add_argument(
        "--engine", choices=("native", "duckdb", "spark"), default="native",
        help="native reads logs; duckdb/spark run the rules as SQL over Parquet written by `iisdetect convert`",
    )  # fmt: skip
    p.add_argument(
        "--spark-master", metavar="URL",
        help="Spark master for --engine spark: local[2], spark://host:7077, yarn "
        "(default: spark-submit's, else local[*])",
    )  # fmt: skip
    return p


def add_limit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="change a resource limit on hostile input, e.g. max_line=256M (docs/limits.md)")  # fmt: skip


def apply_limits(assignments: list[str]) -> None:
    """``--limit NAME=VALUE``: reader limits (readers/limits.py) or ``aql_*`` (aql/guard.py)."""
    from iisdetect.readers.limits import parse_size, set_limit

    for item in assignments:
        name, _, value = item.partition("=")
        try:
            if name.startswith("aql_"):
                from iisdetect.aql.guard import set_aql_limit  # only then: it loads DuckDB and sqlglot

                if not set_aql_limit(name[4:], parse_size(value, item)):
                    raise ValueError(f"bad --limit {item!r}: unknown AQL limit {name!r}")
            else:
                set_limit(item)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def options_from(args: argparse.Namespace) -> HuntOptions:
    apply_limits(getattr(args, "limit", []))
    since = parse_instant(args.since) if args.since else None
    until = parse_instant(args.until) if args.until else None
    if since and until and since > until:
        raise UsageError("--since is after --until")
    if args.now and not args.last:
        raise UsageError("--now only makes sense with --last")
    if args.tuning and not Path(args.tuning).is_file():
        raise UsageError(f"tuning file not found: {args.tuning}")
    return HuntOptions(
        paths=args.paths,
        ruleset=selected_ruleset(args),
        extra_rules=args.rules,
        tuning=args.tuning,
        since=since,
        until=until,
        last=parse_duration(args.last) if args.last else None,
        now=parse_instant(args.now) if args.now else None,
        correlate_window=None if args.no_correlate else parse_duration(args.window),
        jobs=choose_jobs(args.jobs, args.paths) if args.engine == "native" else 1,
        engine=args.engine,
        spark_master=args.spark_master,
        select=options_selection(args),
        dedupe=False if args.keep_duplicates else None,
        prefilter=not getattr(args, "no_prefilter", False),
    )


AUTO_PARALLEL_BYTES = 256 * 1024 * 1024


def choose_jobs(jobs: int, paths: list[str]) -> int:
    """Explicit N wins (the hunt lowers it to what the cores and work units allow, with a note); auto
    uses every usable core only when the input is big enough to repay the workers' start-up."""
    if jobs < 0:
        raise UsageError("--jobs must be 0 (auto) or a positive number")
    if jobs or "-" in paths:
        return jobs or 1
    from iisdetect.hunting.parallel import auto_jobs

    return auto_jobs(paths, AUTO_PARALLEL_BYTES)


@contextmanager
def progress_bar(paths: list[str], enabled: bool) -> Iterator[object]:
    """A byte-based bar on stderr, only when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty() or "-" in paths:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from iisdetect.readers import total_input_bytes

    total = total_input_bytes(paths)
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("read", total=total or None)
        yield lambda n: prog.advance(task, n)


def streams(args: argparse.Namespace) -> bool:
    """NDJSON/CSV/Timesketch without correlation (and no --last to apply afterwards) are written as alerts fire."""
    return args.format in ("ndjson", "csv", "timesketch") and args.no_correlate and not (args.last and not args.now)


def run(args: argparse.Namespace) -> int:
    opts = options_from(args)
    if args.width is not None and args.width < 40:
        raise UsageError("--width must be at least 40")
    err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 100)
    with open_output(args.output) as out:
        if streams(args):
            result = _run_streaming(args, opts, out)
        else:
            opts.spool = args.format in SPOOLED_FORMATS
            with progress_bar(list(args.paths), not args.no_progress) as advance:
                opts.on_progress = advance  # type: ignore[assignment]
                result = hunt(opts)
            try:
                if result.spooled is not None:
                    _render_spooled(args, result, out)
                else:
                    _render(args, result, out)
            except BrokenPipeError:  # `| head -1`: the accounting on stderr is still owed to the user
                print_summary(result.stats, err, result.notes, alerts=sum(result.stats.alerts_by_type.values()))
                raise
            finally:
                if result.spooled is not None:
                    result.spooled.close()
    print_summary(result.stats, err, result.notes, alerts=sum(result.stats.alerts_by_type.values()))
    return EXIT_NO_RECORDS if result.stats.records_read == 0 else 0


def run_summary(args: argparse.Namespace, result: HuntResult) -> dict[str, Any]:
    """The summary object: stats plus tool, rulesets (hashed), inputs, selection and time anchor."""
    start, end = result.window
    anchor = None
    if args.last:
        anchor = "now" if args.now else "newest event read"
    time_anchor = {
        "since": args.since,
        "until": args.until,
        "last": args.last,
        "now": args.now,
        "anchor": anchor,
        "window": [_iso(start), _iso(end)],
        "newest_event": iso_ms(result.newest_event),
    }
    return summary_dict(
        result.stats,
        rules=result.rules,
        inputs=list(args.paths),
        time_anchor=time_anchor,
        selection=options_selection(args).to_dict(),
        notes=result.notes,
    )


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else format_iso(dt, 3)


def _broken_pipe() -> None:
    """rich exits 1 on EPIPE by itself; raise instead so the CLI ends like every other format."""
    raise BrokenPipeError


def _run_streaming(args: argparse.Namespace, opts: HuntOptions, out: IO[str]) -> HuntResult:
    """Write each alert as it fires: memory stays flat however many alerts a noisy rule raises."""
    if args.format == "csv":
        writer = CsvWriter(out)

        def sink(alert: Alert, entry: str | None) -> None:
            if entry is None or args.show_suppressed:
                writer.row(alert, suppressed_by=entry)

    elif args.format == "timesketch":

        def sink(alert: Alert, entry: str | None) -> None:
            if entry is None:
                out.write(orjson.dumps(timesketch_line(alert)).decode() + "\n")

    else:

        def sink(alert: Alert, entry: str | None) -> None:
            if entry is None or args.show_suppressed:
                out.write(ndjson_line(alert, entry))

    closed: list[int] = []  # alerts fired after the reader went away (`| head -1`)

    def guarded(alert: Alert, entry: str | None) -> None:
        """A closed pipe stops the writing, not the run: the accounting on stderr still adds up."""
        if closed:
            closed[0] += 1
            return
        try:
            sink(alert, entry)
        except BrokenPipeError:
            closed.append(1)
            silence_stdout()

    opts.sink = guarded
    with progress_bar(list(args.paths), not args.no_progress) as advance:
        opts.on_progress = advance  # type: ignore[assignment]
        result = hunt(opts)
    if closed:
        result.notes.append(f"output closed by its reader: {closed[0]} alert(s) not written (the run went on)")
    elif args.format == "ndjson":
        try:
            out.write(ndjson_summary_line(run_summary(args, result)))
            out.flush()
        except BrokenPipeError:
            silence_stdout()
            result.notes.append("output closed by its reader before the summary line")
    return result


def table_width(args: argparse.Namespace, out: IO[str]) -> int:
    """``--width``, else the terminal's width when writing to one, else 100 (files, pipes)."""
    if args.width:
        return args.width
    if out is sys.stdout and sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return 100


def table_console(args: argparse.Namespace, out: IO[str]) -> Console:
    """The table's console: a fixed width and height, so rich does not ask the terminal its size on
    every line (53k calls for 20k alerts)."""
    return Console(file=out, width=table_width(args, out), height=25, highlight=False, no_color=out is not sys.stdout)


#: formats written from the on-disk alert spool (docs/correlation.md); html still renders in memory
SPOOLED_FORMATS = ("table", "json", "ndjson", "csv", "timesketch", "navigator")


def _render_spooled(args: argparse.Namespace, result: HuntResult, out: IO[str]) -> None:
    """:func:`_render` for a spooled result: alerts are loaded back one at a time as they are written."""
    from iisdetect.report import spooled as sp

    alerts = result.spooled
    if args.format == "table":
        console = table_console(args, out)
        console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
        sp.write_table(alerts, console, no_records=result.stats.records_read == 0)
        suppressed = sp.suppressed_alerts(alerts) if args.show_suppressed else []
        if suppressed:
            console.print(f"\nSuppressed by tuning ({len(suppressed)}):")
            render_table(suppressed, [], console)
    elif args.format == "json":
        sp.write_json(alerts, run_summary(args, result), out, args.show_suppressed)
    elif args.format == "ndjson":
        sp.write_ndjson(alerts, out, args.show_suppressed, run_summary(args, result))
    elif args.format == "timesketch":
        sp.write_timesketch(alerts, out)
    elif args.format == "navigator":
        sp.write_navigator(alerts, result.rules, out)
    else:
        sp.write_csv(alerts, out, args.show_suppressed)


def _render(args: argparse.Namespace, result: HuntResult, out: IO[str]) -> None:
    suppressed = result.suppressed if args.show_suppressed else []
    no_records = result.stats.records_read == 0
    if args.format == "table":
        console = table_console(args, out)
        console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
        render_table(result.alerts, result.incidents, console, no_records=no_records)
        if suppressed:
            console.print(f"\nSuppressed by tuning ({len(suppressed)}):")
            render_table([a for a, _ in suppressed], [], console)
    elif args.format == "json":
        render_json(result.alerts, result.incidents, run_summary(args, result), out, suppressed)
    elif args.format == "ndjson":
        render_ndjson(result.alerts, result.incidents, out, suppressed, run_summary(args, result))
    elif args.format == "html":  # the investigation report: always shows what tuning suppressed
        from iisdetect.report.html import render_hunt_html

        render_hunt_html(result, args, out)
    elif args.format == "timesketch":
        render_timesketch(result.alerts, result.incidents, out)
    elif args.format == "navigator":
        render_navigator(result.alerts, result.rules, out)
    else:
        render_csv(result.alerts, result.incidents, out, suppressed)
