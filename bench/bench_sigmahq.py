"""Benchmark the engine at scale: every compilable SigmaHQ Windows rule over the real corpus.

Prints, for one run in a fresh process: rules loaded and compiled (and skipped), compile time,
detector build time, events read, matching time and throughput (read + normalise + match: seconds,
events/s, microseconds per event) against the read-only rate of the same input (the ceiling),
alerts, and peak RSS (VmHWM). Each hunt measurement runs once per ``--seeds`` value of
``PYTHONHASHSEED`` (default 1 and 2), and the spread between them is printed: the hot path must not
depend on string hashing (issue 18 measured 41-58 s from the seed alone before the rule index). With
``--repeat N`` the seeds' runs alternate and the best of each seed is compared; the spread between runs
of one seed is printed too, so a shared machine's own noise is not read as the seeds'.

    python bench/bench_sigmahq.py                               # ../shared/sigmahq over ../shared/corpus
    python bench/bench_sigmahq.py --sigmahq DIR --corpus DIR [--repeat 2] [--seeds 1,2]
    python bench/bench_sigmahq.py --panache 200 [--cli]         # issue 18's goal input, see below

``--panache N`` builds (once, in bench/data/, git-ignored) the issue's goal input: the corpus file
``EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx`` (565 records)
with its 64 KiB chunks repeated N times under a rewritten header (bench/make_data.py), 113,000
records for N = 200, and measures on it instead of the corpus. ``--cli`` also times the whole
``iisdetect hunt`` command (start-up, rule compilation, reading, matching, correlation, JSON output
to /dev/null; ``--keep-duplicates`` since the repeated records share their ids).

Rules: SigmaHQ/sigma at commit 8eaafff1 (``rules/windows``, ``rules-threat-hunting/windows``,
``rules-emerging-threats``; DRL 1.1, see ../shared/sigmahq/README.md). Corpus: ../shared/corpus
(public EVTX/JSON samples, its README lists them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
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
from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_rules
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
mode, corpus, *folders = sys.argv[1:]
out = {}
if mode == "read":
    t = time.perf_counter(); c = time.process_time(); stats = RunStats()
    n = sum(1 for _ in iter_events([corpus], stats))
    out.update(records=n, seconds=time.perf_counter() - t, cpu=time.process_time() - c)
else:
    t = time.perf_counter(); report = load_rules(None, folders); out["compile_s"] = time.perf_counter() - t
    out["rules"] = len(report.rules); out["skipped"] = len(report.warnings)
    t = time.perf_counter(); det = Detector(report.rules); out["build_s"] = time.perf_counter() - t
    t = time.perf_counter(); c = time.process_time(); stats = RunStats(); n = alerts = 0; fired = Counter()
    for ev in iter_events([corpus], stats):
        n += 1
        hits = det.match(ev)
        if hits:
            alerts += len(hits)
            fired.update(r.id for r in hits)
    out.update(records=n, seconds=time.perf_counter() - t, cpu=time.process_time() - c, alerts=alerts,
               rules_fired=len(fired))
out["rss_mb"] = peak_mb()
print(json.dumps(out))
"""


PANACHE = "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"


def child(*args: str, seed: str = "0") -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load() -> str:
    """The 1/5/15-minute load average: the machine is shared, figures must say how busy it was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def panache(corpus: Path, repeat: int) -> Path:
    """The goal input of issue 18: one corpus file's chunks repeated ``repeat`` times (built once)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import make_data

    target = ROOT / "bench" / "data" / f"panache_x{repeat}.evtx"
    if not target.exists():
        src = corpus / PANACHE
        chunks = [c for c, _ in make_data.good_chunks(src)] * repeat
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            fh.write(make_data.header(src.read_bytes(), len(chunks)))
            for c in chunks:
                fh.write(c)
    return target


def cli_seconds(path: Path, folders: list[str], seed: str) -> float:
    """Wall time of the whole ``iisdetect hunt`` command with only the SigmaHQ rules."""
    cmd = [sys.executable, "-m", "iisdetect", "hunt", str(path), "--no-ruleset", "--format", "json"]
    cmd += ["-o", os.devnull, "--jobs", "1", "--no-progress", "--keep-duplicates"]
    for f in folders:
        cmd += ["--rules", f]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigmahq", default=str(ROOT.parent / "shared" / "sigmahq"))
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=1, help="runs per seed, seeds alternating (best is reported)")
    ap.add_argument("--seeds", default="1,2", help="PYTHONHASHSEED values, one hunt measurement each")
    ap.add_argument("--panache", type=int, default=0, metavar="N", help="measure on the Panache file x N instead")
    ap.add_argument("--cli", action="store_true", help="also time the whole `iisdetect hunt` command")
    args = ap.parse_args()
    folders = [str(Path(args.sigmahq) / f) for f in FOLDERS]
    missing = [f for f in folders if not Path(f).is_dir()] + ([args.corpus] if not Path(args.corpus).is_dir() else [])
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    target = str(panache(Path(args.corpus), args.panache)) if args.panache else args.corpus
    seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
    print(f"input: {target}; load average before: {load()} ({os.cpu_count()} cores)")
    read = min((child("read", target) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    runs: dict[str, list[dict]] = {seed: [] for seed in seeds}
    for _ in range(args.repeat):  # interleaved, so a slow spell of the machine falls on every seed alike
        for seed in seeds:
            runs[seed].append(child("hunt", target, *folders, seed=seed))
    hunts = {seed: min(rs, key=lambda r: r["seconds"]) for seed, rs in runs.items()}
    for seed, rs in runs.items():
        if len(rs) > 1:
            each = ", ".join(f"{r['seconds']:.1f} s wall / {r['cpu']:.1f} s CPU" for r in rs)
            print(f"PYTHONHASHSEED={seed}: each run of read + match: {each}")
    hunt = next(iter(hunts.values()))
    print(f"rules loaded and compiled: {hunt['rules']} ({hunt['skipped']} skipped with a warning)")
    print(
        f"compile: {hunt['compile_s']:.1f} s ({1000 * hunt['compile_s'] / max(hunt['rules'], 1):.1f} ms/rule); "
        f"detector build: {hunt['build_s']:.2f} s"
    )
    read_rate = read["records"] / read["seconds"]
    print(
        f"read only: {read['records']} events in {read['seconds']:.1f} s (CPU {read['cpu']:.1f} s) = "
        f"{read_rate:,.0f} ev/s"
        f" (peak RSS {read['rss_mb']:.0f} MB)"
    )
    for seed, h in hunts.items():
        rate = h["records"] / h["seconds"]
        print(
            f"PYTHONHASHSEED={seed}: read + match all rules: {h['records']} events in {h['seconds']:.2f} s "
            f"(CPU {h['cpu']:.2f} s) = "
            f"{rate:,.0f} ev/s, {1e6 * h['seconds'] / max(h['records'], 1):.1f} us/event "
            f"({100 * rate / read_rate:.0f}% of read-only); alerts {h['alerts']} from {h['rules_fired']} rules; "
            f"peak RSS {h['rss_mb']:.0f} MB"
        )
    times = [h["seconds"] for h in hunts.values()]
    cpus = [h["cpu"] for h in hunts.values()]
    if len(times) > 1:
        print(
            f"spread across seeds: wall {100 * (max(times) - min(times)) / min(times):.1f}%, "
            f"CPU {100 * (max(cpus) - min(cpus)) / min(cpus):.1f}% ((max - min) / min)"
        )
        if args.repeat > 1:  # the same seed again: how much of the spread is the machine's
            within = max((max(r["seconds"] for r in rs) - min(r["seconds"] for r in rs)) / min(r["seconds"] for r in rs)
                         for rs in runs.values())  # fmt: skip
            print(f"largest spread between runs of one seed: {100 * within:.1f}% (the machine's own noise)")
        if len({(h["alerts"], h["rules_fired"]) for h in hunts.values()}) != 1:
            print("ALERTS DIFFER ACROSS SEEDS", file=sys.stderr)
            return 1
    if args.cli:
        for seed in seeds:
            wall = cli_seconds(Path(target), folders, seed)
            print(f"PYTHONHASHSEED={seed}: whole `iisdetect hunt` command: {wall:.1f} s")
    print(f"load average after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
