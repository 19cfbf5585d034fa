"""``iisdetect simulate``: write scenario telemetry (with ground truth) in a real tool's format.

Why a truth file beside the data: anyone can hunt over the generated logs with any tool and score
the result against ``<name>.truth.csv`` (one row per scenario event; every record not listed is benign
background). CSV, not JSON, so the log readers skip it when a whole output folder is hunted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import heapq
import sys
from pathlib import Path
from typing import Any

from iisdetect.errors import UsageError
from iisdetect.simulate import SCENARIO_DIR, load_scenarios, scenario_stream
from iisdetect.simulate.model import SimEvent
from iisdetect.simulate.writers import FORMATS, write


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "simulate",
        help="generate realistic T1505.004 attack/benign telemetry with ground truth",
        description="Write the events of scenarios (YAML, docs/scenarios.md) exactly as Sysmon, Security, "
        "PowerShell, IIS-Configuration and the Application log write them, in the shape of a real export "
        "tool, plus a ground-truth file. Output is deterministic for a given --seed.",
    )
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario ids (see --list)")
    p.add_argument("--all", action="store_true", help="every scenario")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--format", choices=list(FORMATS), default="evtx-json", help="output shape (default: evtx-json)")
    p.add_argument("-o", "--output", metavar="DIR", default="simulated", help="output folder (default: simulated)")
    p.add_argument("--merge", metavar="NAME", help="write all selected scenarios into one file NAME.<ext>")
    p.add_argument("--background-events", type=int, default=0, metavar="N", help="benign background per file")
    p.add_argument("--no-truth", action="store_true", help="do not write the NAME.truth.csv files")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default: 1)")
    p.add_argument("--scenario-dir", metavar="DIR", help=f"read scenarios from DIR (default: {SCENARIO_DIR})")
    return p


TRUTH_COLUMNS = (
    "key", "scenario", "step", "malicious", "computer", "channel", "event_id", "record_id", "time",
    "expect_iis", "expect_seed", "allow_iis", "allow_seed", "known_fp_iis", "known_fp_seed",
    "known_miss_iis", "known_miss_seed",
)  # fmt: skip


def _truth_row(sim: SimEvent) -> list[object]:
    """One CSV row per scenario event; detection types joined with ``;``."""
    t, ev = sim.truth, sim.event
    row: list[object] = [t.event_key, t.scenario, t.step, "true" if t.malicious else "false", ev.computer,
                         ev.channel, ev.event_id, ev.record_id, ev.time_created]  # fmt: skip
    for field in (t.expect, t.allow, t.known_fp):
        row += [";".join(field.get("iis", ())), ";".join(field.get("seed", ()))]
    row += [t.known_miss.get("iis", ""), t.known_miss.get("seed", "")]
    return row


def run(args: argparse.Namespace) -> int:
    directory = Path(args.scenario_dir) if args.scenario_dir else None
    if args.list:
        for scn in load_scenarios((), directory):
            marks = sum(1 for s in scn.steps if s.malicious)
            print(f"{scn.id:45} {scn.kind:7} {marks:3} malicious steps  {scn.title}")
        return 0
    if args.all == bool(args.scenarios):
        raise UsageError("name scenarios or give --all (not both); --list shows them")
    if args.background_events < 0:
        raise UsageError("--background-events must be >= 0")
    scenarios = load_scenarios(() if args.all else args.scenarios, directory)
    out_dir = Path(args.output)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {out_dir}: {exc}") from None
    ext = FORMATS[args.format]
    groups = [(args.merge, scenarios)] if args.merge else [(scn.id, [scn]) for scn in scenarios]
    for name, members in groups:
        streams = [
            scenario_stream(s, args.seed, args.background_events if i == 0 else 0) for i, s in enumerate(members)
        ]
        merged = heapq.merge(*streams, key=lambda e: e.event.time_created)
        data_path, truth_path = out_dir / f"{name}.{ext}", out_dir / f"{name}.truth.csv"
        with data_path.open("wb") as data, contextlib.ExitStack() as stack:
            writer = None
            if not args.no_truth:
                writer = csv.writer(stack.enter_context(truth_path.open("w", encoding="utf-8", newline="")))
                writer.writerow(TRUTH_COLUMNS)

            def on_event(sim: SimEvent, writer: Any = writer) -> None:
                if writer is not None and sim.truth.scenario != "background":
                    writer.writerow(_truth_row(sim))

            count = write(merged, args.format, data, on_event)
        note = "" if args.no_truth else f" (truth: {truth_path.name})"
        sys.stderr.write(f"{data_path}: {count} events{note}\n")
    return 0
