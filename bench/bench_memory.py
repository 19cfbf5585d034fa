"""Peak memory of ``iisdetect hunt`` by number of alerts (1k .. 1M), per output format.

Input: the simulator's scenarios (``iisdetect simulate --all --merge``, NDJSON), reduced to the lines
that raise alerts with the default ruleset, then copied until the wanted number of alerts fires.
Copy ``c`` is moved ``c * --gap`` later (TimeCreated and UtcTime) and gets unique RecordNumbers; with
``--hosts N`` its Computer becomes ``<host>-<c % N>``. ``--gap 2h`` (default) keeps copies in separate
incidents (about 60 alerts each: many small incidents); ``--gap 1s --hosts 1`` chains every copy into
one incident per module (one incident of hundreds of thousands of alerts: the worst case).

Each run is its own process (``iisdetect hunt FILE --format F -o OUT``); its peak RSS is the child's
``ru_maxrss`` from ``os.wait4`` (that child only), its time the wall clock. ``--compare`` also runs the
in-memory path (the pre-spool renderer, forced by clearing ``commands.hunt.SPOOLED_FORMATS``).

    python bench/bench_memory.py                              # 1k,10k,100k,1M alerts; ndjson json table
    python bench/bench_memory.py --alerts 1000,10000 --compare
    python bench/bench_memory.py --alerts 1000000 --gap 1s --hosts 1 --formats ndjson
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
EXE = Path(sys.executable).parent / "iisdetect"

IN_MEMORY = r"""
import sys
from iisdetect.commands import hunt
hunt.SPOOLED_FORMATS = ()
from iisdetect.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _duration(text: str) -> timedelta:
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[text[-1]]
    return timedelta(**{unit: int(text[:-1])})


def firing_lines(workdir: Path) -> tuple[list[dict], int]:
    """The simulator's lines that raise alerts (and how many alerts one copy of them raises)."""
    sim = workdir / "sim"
    subprocess.run([str(EXE), "simulate", "--all", "--merge", "all", "--format", "ndjson", "-o", str(sim),
                    "--no-truth"], check=True, capture_output=True)  # fmt: skip
    src = sim / "all.ndjson"
    out = subprocess.run([str(EXE), "hunt", str(src), "--format", "ndjson", "--no-correlate"],
                         capture_output=True, check=True).stdout  # fmt: skip
    hits: set[int] = set()
    for line in out.splitlines():
        rec = orjson.loads(line)
        if rec.get("type") == "alert":
            hits.add(int(str(rec["position"]).split()[-1]))
    lines = src.read_bytes().splitlines()
    keep = [orjson.loads(lines[n - 1]) for n in sorted(hits)]
    per_copy = sum(1 for line in out.splitlines() if b'"type":"alert"' in line)
    return keep, per_copy


#: events the default ruleset judges in microseconds (Sysmon 11/13, Security 4663, Application module
#: errors; measured 2-9 us each against 0.1-6 ms for command lines, scripts and EID 29 records)
CHEAP_EIDS = {11, 13, 4663, 2214, 2280, 2295}


def make_input(target: Path, alerts: int, gap: timedelta, hosts: int, eid29_every: int, cheap: bool) -> int:
    """Write copies of the firing lines until about ``alerts`` alerts fire; returns the copies written.

    IIS-Configuration EID 29 records cost the evaluator ~1.3 ms each (more than everything else in a
    copy together), so they go into every ``eid29_every``-th copy only: the run stays about correlation.
    """
    lines, per_copy = firing_lines(target.parent)
    if cheap:
        lines, per_copy = [r for r in lines if int(r.get("EventID", 0)) in CHEAP_EIDS], 0
        per_copy = len(lines)  # about one alert each; the hunt's own count is reported
    cheap = [r for r in lines if int(r.get("EventID", 0)) != 29]
    per_cheap = per_copy * len(cheap) / max(1, len(lines))  # estimate; the hunt's own count is reported
    per_avg = per_cheap + (per_copy - per_cheap) / max(1, eid29_every)
    copies = max(1, round(alerts / per_avg))
    with target.open("wb") as fh:
        for c in range(copies):
            shift = gap * c
            for n, rec in enumerate(lines if c % eid29_every == 0 else cheap):
                r = dict(rec)
                r["TimeCreated"] = _shift_iso(r["TimeCreated"], shift)
                if "UtcTime" in r:
                    r["UtcTime"] = _shift_utc(r["UtcTime"], shift)
                r["RecordNumber"] = 10_000_000 + c * len(lines) + n
                if hosts > 1:
                    host, _, domain = str(r.get("Hostname", "")).partition(".")
                    r["Hostname"] = f"{host}-{c % hosts}.{domain}" if domain else f"{host}-{c % hosts}"
                fh.write(orjson.dumps(r) + b"\n")
    return copies


def _shift_iso(text: str, shift: timedelta) -> str:
    t = datetime.fromisoformat(text.replace("Z", "+00:00")) + shift
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _shift_utc(text: str, shift: timedelta) -> str:
    try:
        t = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f") + shift
    except ValueError:
        return text
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def run(cmd: list[str]) -> dict:
    """Run one child; its own peak RSS (wait4's rusage is that child's) and wall time."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t
    tail = err.decode(errors="replace").strip().splitlines()
    alerts = next((ln for ln in tail if ln.startswith("alerts:")), "")
    count = int(alerts.split()[1]) if alerts.startswith("alerts: ") else None
    return {"rc": proc.returncode, "alerts": count, "seconds": round(dt, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", default="1000,10000,100000,1000000")
    ap.add_argument("--formats", default="ndjson,json,table")
    ap.add_argument("--gap", default="2h", help="time between copies (2h: separate incidents; 1s: one chain)")
    ap.add_argument("--hosts", type=int, default=20, help="spread copies over N hosts")
    ap.add_argument("--eid29-every", type=int, default=10, help="EID 29 lines in every K-th copy only")
    ap.add_argument("--mix", choices=("cheap", "full"), default="cheap",
                    help="cheap: only events the rules judge in microseconds (file writes, registry, module "
                    "errors), so a million alerts fit in minutes; full: every firing scenario line")  # fmt: skip
    ap.add_argument("--reuse", action="store_true", help="keep an input file already written")
    ap.add_argument("--compare", action="store_true", help="also run the in-memory path")
    ap.add_argument("--out", type=Path, default=DATA / "memory")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    gap = _duration(args.gap)
    for n in (int(x) for x in args.alerts.split(",")):
        src = args.out / f"alerts_{n}_{args.mix}_{args.gap}_{args.hosts}.ndjson"
        if args.reuse and src.exists():
            copies = None  # written by an earlier run with the same options
        else:
            copies = make_input(src, n, gap, args.hosts, args.eid29_every, args.mix == "cheap")
        size = src.stat().st_size / 2**20
        for fmt in args.formats.split(","):
            paths = [("spooled", [str(EXE)])]
            if args.compare:
                paths.append(("in-memory", [sys.executable, "-c", IN_MEMORY]))
            for name, exe in paths:
                out = args.out / f"out.{n}.{name}.{fmt}"
                cmd = [*exe, "hunt", str(src), "--format", fmt, "--no-progress", "-o", str(out)]
                res = run(cmd)
                row = {"target_alerts": n, "mix": args.mix, "copies": copies, "input_mb": round(size, 1), "format": fmt,
                       "path": name, **res, "cmd": " ".join(cmd)}  # fmt: skip
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
