"""Cost of counting repeated events once: two copies of one log, duplicate check on vs off.

Writes ``bench/data/dup_<n>/{a,b}.jsonl`` (the same ``n`` Sysmon events with distinct record ids,
evtx-json) and hunts the folder in a fresh process, once by default (the check runs: ``n`` duplicates)
and once with ``dedupe=False`` (``--keep-duplicates``). Prints events/s and peak RSS (VmHWM).

    python bench/bench_duplicates.py --events 200000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from iisdetect.hunting.run import HuntOptions, hunt
t = time.perf_counter()
res = hunt(HuntOptions(paths=[sys.argv[1]], correlate_window=None, dedupe=sys.argv[2] == "on"))
dt = time.perf_counter() - t
print(json.dumps({"records": res.stats.records_read, "duplicates": res.stats.duplicate_events, "seconds": dt,
                  "rss_mb": peak_mb()}))
"""


def write_copy(path: Path, n: int) -> None:
    with path.open("wb") as fh:
        for i in range(n):
            sec = i % 86400
            ev = {
                "Event": {
                    "System": {
                        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                        "EventID": 1,
                        "TimeCreated": {
                            "#attributes": {
                                "SystemTime": f"2024-05-02T{sec // 3600:02d}:{sec // 60 % 60:02d}:"
                                f"{sec % 60:02d}.{i % 1000000:06d}Z"
                            }
                        },
                        "EventRecordID": 1000 + i,
                        "Channel": "Microsoft-Windows-Sysmon/Operational",
                        "Computer": "WEB01.corp.local",
                    },
                    "EventData": {
                        "Image": r"C:\Windows\System32\svchost.exe",
                        "CommandLine": f"svchost.exe -k {i}",
                        "ParentImage": r"C:\Windows\System32\services.exe",
                        "User": "NT AUTHORITY\\SYSTEM",
                    },
                }
            }
            fh.write(orjson.dumps(ev) + b"\n")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000, help="events per copy")
    args = ap.parse_args()
    folder = ROOT / "data" / f"dup_{args.events}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("a.jsonl", "b.jsonl"):
        if not (folder / name).exists():
            write_copy(folder / name, args.events)
    print(f"{'duplicate check':<18}{'records':>10}{'duplicates':>12}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}")
    for mode in ("on", "off"):
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder), mode], check=True, capture_output=True,
                             text=True)  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rate = r["records"] / r["seconds"]
        print(f"{mode:<18}{r['records']:>10}{r['duplicates']:>12}{r['seconds']:>9.2f}{rate:>11.0f}{r['rss_mb']:>13.1f}")


if __name__ == "__main__":
    main()
