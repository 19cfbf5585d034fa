"""``iisdetect convert PATH... -o DIR``: canonical events as a Parquet (or NDJSON) lake table."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from iisdetect.report.summary import print_summary


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert",
        help="write canonical events as Parquet for DuckDB/Spark (hunt --engine)",
        description="Read logs as hunt does and write the canonical table (System columns, every EventData "
        "field as a column and in a map) partitioned by day, in bounded batches. A new run adds files.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders; '-' reads stdin")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="lake folder (created; new files are added)")
    p.add_argument("--to", choices=("parquet", "ndjson"), default="parquet", help="file format (default: parquet)")
    p.add_argument("--partition-host", action="store_true", help="partition by host as well as by day")
    return p


def run(args: argparse.Namespace) -> int:
    from iisdetect.lake.convert import convert

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    result = convert(args.paths, args.output, args.to, args.partition_host)
    print_summary(result.stats, err)
    err.print(Text(f"wrote {result.rows} rows in {len(result.files)} file(s), {len(result.partitions)} partition(s)"))
    if result.stats.records_read == 0:
        err.print(Text("no records were read: nothing to convert"))
        return 1
    return 0
