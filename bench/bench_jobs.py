"""Benchmark ``hunt --jobs`` on one large NDJSON file (split into line ranges): 1 worker against N.

    python bench/bench_jobs.py [--records 200000] [--jobs 2]

Writes bench/data/jobs_<records>.ndjson unless it exists: the OTRF flat JSON lines of
bench/make_data.py repeated, with a w3wp.exe image load from C:\\Users\\Public (seed-positive) every
5,000 lines so that alerts are compared too. Then runs ``iisdetect hunt FILE --ruleset seed
--no-correlate --format json`` in fresh processes with ``--jobs 1``, ``--jobs N`` and the default
(auto), and prints wall time, events/s and whether the alerts and the summary are identical to the
one-process run. The machine may be shared: the
speed-up is only as large as the idle cores allow (the load average is printed with each run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from make_data import CORPUS  # noqa: E402

OTRF = CORPUS / "OTRF-Security-Datasets/extracted/proxylogon_ssrf_rce_poc_2021-03-14T01401970.json"


def make_file(path: Path, records: int) -> None:
    lines = [ln for ln in OTRF.read_bytes().splitlines() if ln.strip()]
    with path.open("wb") as fh:
        for i in range(records):
            if i % 5000 == 4999:
                fh.write(json.dumps({"EventID": 7, "Channel": "Microsoft-Windows-Sysmon/Operational",
                                     "Hostname": "WEB01", "EventTime": "2021-03-14 01:40:59", "RecordNumber": i,
                                     "Image": r"C:\Windows\System32\inetsrv\w3wp.exe",
                                     "ImageLoaded": rf"C:\Users\Public\m{i}.dll"}).encode() + b"\n")  # fmt: skip
            else:
                fh.write(lines[i % len(lines)] + b"\n")


def run(path: Path, jobs: str, out: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "iisdetect", "hunt", str(path), "--ruleset", "seed", "--no-correlate",
           "--format", "json", "--no-progress", "-o", str(out)]  # fmt: skip
    if jobs:
        cmd += ["--jobs", jobs]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    secs = time.perf_counter() - t0
    doc = json.loads(out.read_text())
    doc["summary"].pop("notes", None)  # "--jobs N lowered" is a note, not a difference
    return secs, doc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--jobs", default="2")
    args = ap.parse_args()
    data = ROOT / "data"
    data.mkdir(exist_ok=True)
    path = data / f"jobs_{args.records}.ndjson"
    if not path.exists():
        make_file(path, args.records)
    print(f"{path.name}: {path.stat().st_size / (1 << 20):,.0f} MiB, usable cores {len(os.sched_getaffinity(0))}")
    first = None
    for jobs in ("1", args.jobs, ""):
        out = data / f"jobs_out_{jobs or 'auto'}.json"
        secs, doc = run(path, jobs, out)
        same = "" if first is None else f"; identical to --jobs 1: {doc == first}"
        if first is None:
            first = doc
        n = doc["summary"]["records_read"]
        print(f"--jobs {jobs or 'auto'}: {secs:.1f} s, {n} records = {n / secs:,.0f} events/s, "
              f"{len(doc['alerts'])} alerts (load average {os.getloadavg()[0]:.1f}){same}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
