"""``iisdetect validate``: measure the rulesets against every scenario's hand-written ground truth.

Exit 0 when every declared expectation holds, 1 when one fails (CI runs this), 2 on usage errors
(for example a ruleset folder that does not exist). Tables go to stdout with ``rich``.
"""

from __future__ import annotations

import argparse
import sys

import orjson
from rich.console import Console
from rich.table import Table

from iisdetect import __version__
from iisdetect.rulesets import RULESETS
from iisdetect.simulate.score import Counts, Report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "validate",
        help="score the rulesets against the simulator's ground truth",
        description="Run the rulesets over every scenario (plus a benign background) and print TP/FP/FN, "
        "precision and recall per detection type and per scenario, seed and default side by side. "
        "Exits 1 when a scenario's declared expectation is not met.",
    )
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="only these scenarios (default: all)")
    p.add_argument("--ruleset", choices=list(RULESETS), default="all", help="rulesets to score (default: all)")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output (default: table)")
    p.add_argument("--background-events", type=int, default=2000, metavar="N", help="benign background size")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="simulator seed (default: 1)")
    p.add_argument("--scenario-dir", metavar="DIR", help="read scenarios from DIR instead of the bundled ones")
    p.add_argument(
        "--tuning",
        metavar="FILE",
        help="also score the default ruleset with this tuning file (column 'iis+tuning'): every attack must "
        "still be detected; declared false positives may be silenced",
    )
    return p


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cells(c: Counts) -> list[str]:
    return [str(c.tp), str(c.fp), str(c.fn), _fmt(c.precision), _fmt(c.recall)]


def _table(title: str, first: str, rows: list[str], report: Report, source: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column(first, no_wrap=True)
    if source == "scenario":
        table.add_column("events", justify="right")
        table.add_column("malicious", justify="right")
    for rs in report.rulesets:
        label = {"iis": "default", "iis+tuning": "tuned"}.get(rs, rs)
        for col in ("TP", "FP", "FN", "P", "R"):
            table.add_column(f"{label} {col}", justify="right")
    for row in rows:
        cells = [row]
        if source == "scenario":
            summary = report.scenarios[row]
            cells += [str(summary.events), str(summary.malicious)]
        for rs in report.rulesets:
            data = report.by_type[rs] if source == "type" else report.by_scenario[rs]
            cells += _cells(data.get(row, Counts()))
        table.add_row(*cells)
    return table


def render_tables(report: Report, console: Console) -> None:
    """Per detection type (event/type pairs) and per scenario (events), rulesets side by side."""
    types = sorted({t for rs in report.rulesets for t in report.by_type[rs]})
    console.print(_table("By detection type (event x type pairs)", "detection type", types, report, "type"))
    console.print(_table("By scenario (events)", "scenario", list(report.scenarios), report, "scenario"))
    for p in report.problems:
        console.print(f"[red]FAIL[/red] {p.ruleset}: {p.event_key}: {p.message}", highlight=False)
    if report.ok:
        console.print("[green]OK[/green]: every declared expectation holds", highlight=False)
    else:
        console.print(f"[red]FAILED[/red]: {len(report.problems)} expectation(s) not met", highlight=False)


def run(args: argparse.Namespace) -> int:
    from iisdetect.api import validate

    report = validate(args.ruleset, args.tuning, args.scenarios, args.background_events, args.seed, args.scenario_dir)
    if args.format == "json":
        doc = {"version": __version__, **report.as_dict()}
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        render_tables(report, Console(width=200))
    return 0 if report.ok else 1
