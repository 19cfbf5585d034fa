"""``aql`` loading from files, one process against several (issue 18, goal 6), in one run.

For a Sysmon-heavy EVTX (the corpus's PanacheSysmon_vs_AtomicRedTeam01.evtx chunks repeated, as in
bench_speed.py) and an OTRF NDJSON file, it measures, interleaved in this process:

* ``raw``: the bare ``evtx`` parse (``records_json()`` iterated), for EVTX only: the ceiling;
* ``read``: the readers alone (``iter_events``: parse, decode, canonical events), no table;
* ``load --jobs N``: ``Emulator.load_files`` (read + Arrow + Parquet parts + tables), for each N;
* ``load lake``: ``Emulator.load_files`` of the same events converted to a lake ``--lake-copies``
  times (``iisdetect convert``, done once beforehand, not timed; 9 copies of the Sysmon file = 1,017,000
  rows): Arrow and numpy, no Python per event (aql/load_lake.py);

and prints events/s, each as a ratio to ``raw`` (EVTX) and to ``load --jobs 1``, best of ``--runs``,
then the whole ``iisdetect aql`` command (seed query) with its wall time and peak RSS. It checks that
every N loads the same number of events. Data goes to bench/data/ (git-ignored).

    python bench/bench_aql_load.py                       # Sysmon x200 (~113k), NDJSON 200k, N = 1, 2
    python bench/bench_aql_load.py --jobs 1 2 4 --runs 5
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from bench_speed import SYSMON, raw_parse, repeat_evtx, repeat_ndjson  # noqa: E402

SEED = ROOT.parent / "tests" / "fixtures" / "aql" / "seed_query.aql"


def read_only(path: Path) -> tuple[int, float]:
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events

    stats = RunStats()
    t = time.perf_counter()
    for _ in iter_events([str(path)], stats):
        pass
    return stats.records_read, time.perf_counter() - t


def load(path: Path, jobs: int) -> tuple[int, float]:
    from iisdetect.aql import Emulator
    from iisdetect.model.stats import RunStats

    emu = Emulator()
    try:
        t = time.perf_counter()
        n = emu.load_files([str(path)], RunStats(), jobs)
        return n, time.perf_counter() - t
    finally:
        emu.close()


def lake_of(path: Path, copies: int) -> Path:
    """The lake ``iisdetect convert`` writes for ``path`` run ``copies`` times (built once, next to it)."""
    out = path.with_name(f"{path.stem}.lake{copies}")
    if not out.exists():
        from iisdetect.lake.convert import convert

        for _ in range(copies):  # each run adds its own files
            convert([str(path)], str(out))
    return out


def command(path: Path, jobs: int) -> tuple[float, float]:
    """Wall time, and peak RSS (MB) of its largest process, of the whole ``aql`` command (a fresh
    wrapper process reports its descendants' ``ru_maxrss``, the workers included)."""
    cmd = [sys.executable, "-m", "iisdetect", "aql", "--seed-compat", "--file", str(SEED), str(path),
           "--jobs", str(jobs)]  # fmt: skip
    wrap = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")  # fmt: skip
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrap, *cmd], capture_output=True, check=True, text=True)
    return time.perf_counter() - t, int(out.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200, help="copies of the Sysmon file's chunks (200 = ~113k records)")
    ap.add_argument("--ndjson", type=int, default=200_000, help="NDJSON records")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lake-copies", type=int, default=9, help="copies of each input in its lake (9: ~1M Sysmon rows)")
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sysmon = args.out / f"sysmon_x{args.repeat}.evtx"
    nd = args.out / f"otrf_{args.ndjson}.ndjson"
    if not sysmon.exists():
        repeat_evtx(SYSMON, args.repeat, sysmon)
    if not nd.exists():
        repeat_ndjson(args.ndjson, nd)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for label, path in (("sysmon-heavy EVTX", sysmon), ("OTRF NDJSON", nd)):
        best: dict[str, float] = {}
        counts: dict[str, int] = {}
        lake = lake_of(path, args.lake_copies)
        for _ in range(args.runs):  # interleaved so a load spike hits every side alike
            if path.suffix == ".evtx":
                counts["raw"], dt = raw_parse(path)
                best["raw"] = min(best.get("raw", dt), dt)
            counts["read"], dt = read_only(path)
            best["read"] = min(best.get("read", dt), dt)
            for j in args.jobs:
                counts[f"load --jobs {j}"], dt = load(path, j)
                best[f"load --jobs {j}"] = min(best.get(f"load --jobs {j}", dt), dt)
            counts["load lake"], dt = load(lake, 1)
            best["load lake"] = min(best.get("load lake", dt), dt)
        loads = {counts[k] for k in counts if k.startswith("load --jobs")}
        assert len(loads) == 1, f"the loads differ in events: {counts}"
        rate = {k: counts[k] / dt for k, dt in best.items()}
        one = rate[f"load --jobs {args.jobs[0]}"]
        print(
            f"{label} ({counts['read']} events, {path.stat().st_size >> 20} MiB; its lake {counts['load lake']} rows):"
        )
        for k, dt in best.items():
            vs_raw = f", {rate[k] / rate['raw']:.2f} of raw" if "raw" in rate else ""
            print(
                f"  {k:14} {dt:6.2f} s {rate[k]:10,.0f} ev/s{vs_raw}, {rate[k] / one:.2f}x load --jobs {args.jobs[0]}"
            )
        for j in args.jobs:
            wall, rss = command(path, j)
            print(f"  iisdetect aql (seed query) --jobs {j}: {wall:.2f} s wall, largest process {rss:.0f} MB")
        wall, rss = command(lake, 1)
        print(f"  iisdetect aql (seed query) on the lake: {wall:.2f} s wall, largest process {rss:.0f} MB")


if __name__ == "__main__":
    main()
