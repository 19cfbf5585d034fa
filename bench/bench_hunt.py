"""Benchmark ``iisdetect hunt`` end to end: events/s and peak RSS, EVTX and NDJSON, two sizes.

Each measurement runs in a fresh process; peak RSS is its VmHWM (ru_maxrss would include the
parent's, inherited across fork). The raw ``evtx`` parse
rate of the same EVTX file is measured in the same run and the ratio printed: it is the ceiling.

    python bench/bench_hunt.py                       # 250k and 1M events, seed and iis rulesets
    python bench/bench_hunt.py --sizes 2000000 --rulesets iis
    python bench/bench_hunt.py --sizes 1000000 --simulated   # + the simulator's busy-IIS background
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from make_data import make_evtx, make_ndjson  # noqa: E402

CHILD = r"""
import json, sys, time
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from iisdetect.hunting.run import HuntOptions, hunt
t = time.perf_counter()
res = hunt(HuntOptions(paths=[sys.argv[1]], ruleset=sys.argv[2], correlate_window=None, jobs=int(sys.argv[3])))
dt = time.perf_counter() - t
print(json.dumps({"records": res.stats.records_read, "seconds": dt, "alerts": len(res.alerts),
                  "rss_mb": peak_mb()}))
"""

RAW = r"""
import json, sys, time, evtx
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
t = time.perf_counter(); n = 0
for _ in evtx.PyEvtxParser(sys.argv[1]).records_json():
    n += 1
dt = time.perf_counter() - t
print(json.dumps({"records": n, "seconds": dt, "rss_mb": peak_mb()}))
"""


def child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="250000,1000000", help="comma-separated event counts")
    ap.add_argument("--rulesets", default="seed,iis")
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--jobs", default="1,2", help="comma-separated worker counts to measure on EVTX")
    ap.add_argument(
        "--simulated", action="store_true", help="also hunt the simulator's busy-IIS background (evtx-json)"
    )
    args = ap.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    print(
        f"{'input':<28}{'ruleset':<8}{'events':>10}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}{'vs raw evtx':>13}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        evtx_path = args.data / f"big_{size}.evtx"
        nd_path = args.data / f"big_{size}.ndjson"
        if not evtx_path.exists():
            make_evtx(evtx_path, size)
        if not nd_path.exists():
            make_ndjson(nd_path, size)
        sim_path = args.data / f"sim_{size}.evtx.jsonl"
        if args.simulated and not sim_path.exists():
            subprocess.run(
                [sys.executable, str(ROOT / "gen_background.py"), "--events", str(size), "-o", str(sim_path)],
                check=True,
            )
        for path in (evtx_path, nd_path):  # warm the page cache: measure parsing, not the disk
            with path.open("rb") as fh:
                while fh.read(1 << 24):
                    pass
        raw = child(RAW, str(evtx_path))
        raw_rate = raw["records"] / raw["seconds"]
        print(
            f"{evtx_path.name + ' (raw evtx)':<28}{'-':<8}{raw['records']:>10}{raw['seconds']:>9.2f}"
            f"{raw_rate:>11,.0f}{raw['rss_mb']:>13.1f}{'1.00':>13}"
        )
        for ruleset in args.rulesets.split(","):
            runs = [(evtx_path, int(j)) for j in args.jobs.split(",")] + [(nd_path, 1)]
            runs += [(sim_path, 1)] if args.simulated else []
            for path, jobs in runs:
                r = child(CHILD, str(path), ruleset, str(jobs))
                rate = r["records"] / r["seconds"]
                ratio = f"{rate / raw_rate:.2f}" if path.suffix == ".evtx" else "-"
                name = path.name + (f" --jobs {jobs}" if jobs > 1 else "")
                print(
                    f"{name:<28}{ruleset:<8}{r['records']:>10}{r['seconds']:>9.2f}{rate:>11,.0f}"
                    f"{r['rss_mb']:>13.1f}{ratio:>13}"
                )


if __name__ == "__main__":
    main()
