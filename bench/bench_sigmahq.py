"""Benchmark the engine at scale: every compilable SigmaHQ Windows rule over the real corpus.

Prints, for one run in a fresh process: rules compiled (and skipped), compile time, detector build
time, events read, matching throughput (read + normalise + match, events/s) against the read-only
rate of the same input (the ceiling), alerts, and peak RSS (VmHWM).

    python bench/bench_sigmahq.py                               # ../shared/sigmahq over ../shared/corpus
    python bench/bench_sigmahq.py --sigmahq DIR --corpus DIR [--repeat 2]

Rules: SigmaHQ/sigma at commit 8eaafff1 (``rules/windows``, ``rules-threat-hunting/windows``,
``rules-emerging-threats``; DRL 1.1, see ../shared/sigmahq/README.md). Corpus: ../shared/corpus
(public EVTX/JSON samples, its README lists them).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("rules/windows", "rules-threat-hunting/windows", "rules-emerging-threats")

CHILD = r"""
import json, sys, time
from collections import Counter
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from iisdetect.engine.evaluate import Detector
from iisdetect.engine.ruleset import load_rules
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
mode, corpus, *folders = sys.argv[1:]
out = {}
if mode == "read":
    t = time.perf_counter(); stats = RunStats(); n = sum(1 for _ in iter_events([corpus], stats))
    out.update(records=n, seconds=time.perf_counter() - t)
else:
    t = time.perf_counter(); report = load_rules(None, folders); out["compile_s"] = time.perf_counter() - t
    out["rules"] = len(report.rules); out["skipped"] = len(report.warnings)
    t = time.perf_counter(); det = Detector(report.rules); out["build_s"] = time.perf_counter() - t
    t = time.perf_counter(); stats = RunStats(); n = alerts = 0; fired = Counter()
    for ev in iter_events([corpus], stats):
        n += 1
        hits = det.match(ev)
        if hits:
            alerts += len(hits)
            fired.update(r.id for r in hits)
    out.update(records=n, seconds=time.perf_counter() - t, alerts=alerts, rules_fired=len(fired))
out["rss_mb"] = peak_mb()
print(json.dumps(out))
"""


def child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigmahq", default=str(ROOT.parent / "shared" / "sigmahq"))
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement (best is reported)")
    args = ap.parse_args()
    folders = [str(Path(args.sigmahq) / f) for f in FOLDERS]
    missing = [f for f in folders if not Path(f).is_dir()] + ([args.corpus] if not Path(args.corpus).is_dir() else [])
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    read = min((child("read", args.corpus) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    hunt = min((child("hunt", args.corpus, *folders) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    print(f"rules compiled: {hunt['rules']} ({hunt['skipped']} skipped with a warning)")
    print(
        f"compile: {hunt['compile_s']:.1f} s ({1000 * hunt['compile_s'] / max(hunt['rules'], 1):.1f} ms/rule); "
        f"detector build: {hunt['build_s']:.2f} s"
    )
    read_rate = read["records"] / read["seconds"]
    hunt_rate = hunt["records"] / hunt["seconds"]
    print(
        f"read only: {read['records']} events in {read['seconds']:.1f} s = {read_rate:,.0f} ev/s"
        f" (peak RSS {read['rss_mb']:.0f} MB)"
    )
    print(
        f"read + match all rules: {hunt['records']} events in {hunt['seconds']:.1f} s = "
        f"{hunt_rate:,.0f} ev/s ({100 * hunt_rate / read_rate:.0f}% of read-only)"
    )
    print(f"alerts: {hunt['alerts']} from {hunt['rules_fired']} rules; peak RSS {hunt['rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
