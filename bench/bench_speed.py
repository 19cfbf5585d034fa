"""Hunt throughput against the parser's own limit, in one process and one run (issue 18, goal 7).

For a Sysmon-heavy EVTX (the corpus's PanacheSysmon_vs_AtomicRedTeam01.evtx chunks repeated), a
Security-heavy EVTX (the corpus's security.evtx sample chunks repeated) and an OTRF NDJSON file, it
measures, interleaved in this process:

* ``raw``: the bare ``evtx`` parse, ``PyEvtxParser(path).records_json()`` iterated (the ceiling);
* ``hunt``: the hunt hot path with the default ruleset, rules compiled beforehand (read ->
  route/prefilter -> decode -> normalise -> match), with the gate on and off (``--no-prefilter``);

and prints events/s, the ratio hunt/raw (best of ``--runs``), and the start-up time of
``iisdetect hunt`` on a one-event file (a fresh process each time, best of ``--runs``).
Generated data goes to bench/data/ (git-ignored). The machine's load average is printed: figures
from a shared machine are lower bounds.

    python bench/bench_speed.py                      # 200 repeats of the Sysmon file (~113k records)
    python bench/bench_speed.py --repeat 50 --ndjson 200000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import evtx

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from make_data import CORPUS, good_chunks, header  # noqa: E402

SYSMON = "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
SECURITY = "omerbenamram-evtx/samples/security.evtx"
NDJSON = "OTRF-Security-Datasets/extracted/proxylogon_ssrf_rce_poc_2021-03-14T01401970.json"


def repeat_evtx(rel: str, repeat: int, target: Path) -> int:
    """``repeat`` copies of every clean chunk of a corpus file under one rewritten header."""
    src = CORPUS / rel
    pool = good_chunks(src)
    chunks = [c for _ in range(repeat) for c, _n in pool][:65535]
    with target.open("wb") as fh:
        fh.write(header(src.read_bytes(), len(chunks)))
        for c in chunks:
            fh.write(c)
    return sum(n for _ in range(repeat) for _c, n in pool)


def repeat_ndjson(records: int, target: Path) -> None:
    lines = [ln for ln in (CORPUS / NDJSON).read_bytes().splitlines() if ln.strip()]
    with target.open("wb") as fh:
        for i in range(records):
            fh.write(lines[i % len(lines)] + b"\n")


def raw_parse(path: Path) -> tuple[int, float]:
    t = time.perf_counter()
    n = sum(1 for _ in evtx.PyEvtxParser(str(path)).records_json())
    return n, time.perf_counter() - t


def hunt_pass(path: Path, rules: list, gate: bool) -> tuple[int, float, int]:
    from iisdetect.hunting.run import Matcher
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events

    matcher = Matcher(rules, None, "", "")
    matcher.dedupe = False  # a single plain file: what hunt does by default
    matcher.use_gate(gate)
    stats = RunStats()
    hits: list = []
    t = time.perf_counter()
    matcher.consume(iter_events([str(path)], stats, gate=matcher.gate), hits, stats)
    return stats.records_read, time.perf_counter() - t, len(hits)


def startup(one: Path, runs: int) -> tuple[float, float]:
    """Best and median wall time of ``iisdetect hunt`` on a one-event file, a fresh process each time,
    as a pip install runs it: with ``.pyc`` files (pip writes them at install; the warm-up run writes
    them for an editable install, so ``PYTHONDONTWRITEBYTECODE`` is dropped here, else every start
    would compile the package from source, about 70 ms more).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, "-m", "iisdetect", "hunt", str(one)]
    subprocess.run(cmd, capture_output=True, check=False, env=env)  # warm-up (and .pyc files)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[0], times[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200, help="copies of the Sysmon file's chunks (200 = ~113k records)")
    ap.add_argument("--security-repeat", type=int, default=40, help="copies of the Security sample's chunks")
    ap.add_argument("--ndjson", type=int, default=200_000, help="NDJSON records")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from iisdetect.engine.ruleset import load_rules

    rules = load_rules("iis").rules
    sysmon = args.out / f"sysmon_x{args.repeat}.evtx"
    security = args.out / f"security_x{args.security_repeat}.evtx"
    nd = args.out / f"otrf_{args.ndjson}.ndjson"
    n_sys = repeat_evtx(SYSMON, args.repeat, sysmon)
    n_sec = repeat_evtx(SECURITY, args.security_repeat, security)
    repeat_ndjson(args.ndjson, nd)
    one = args.out / "one_event.ndjson"
    one.write_bytes((CORPUS / NDJSON).read_bytes().split(b"\n", 1)[0] + b"\n")
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"inputs: sysmon-heavy {n_sys} records, security-heavy {n_sec} records, ndjson {args.ndjson} records")
    for label, path in (("sysmon-heavy", sysmon), ("security-heavy", security)):
        raw_best = hunt_best = plain_best = float("inf")
        for _ in range(args.runs):  # interleaved so a load spike hits both sides alike
            n, dt = raw_parse(path)
            raw_best = min(raw_best, dt)
            read, dt, hits = hunt_pass(path, rules, True)
            hunt_best = min(hunt_best, dt)
            _, dt, hits_off = hunt_pass(path, rules, False)
            plain_best = min(plain_best, dt)
            assert hits == hits_off, "the gate changed the hits"
        print(
            f"{label}: raw {n / raw_best:,.0f} ev/s; hunt {read / hunt_best:,.0f} ev/s (ratio "
            f"{raw_best / hunt_best:.2f}); hunt --no-prefilter {read / plain_best:,.0f} ev/s (ratio "
            f"{raw_best / plain_best:.2f}); {hits} events fired"
        )
    best = plain = float("inf")
    for _ in range(args.runs):
        read, dt, hits = hunt_pass(nd, rules, True)
        best = min(best, dt)
        _, dt, _ = hunt_pass(nd, rules, False)
        plain = min(plain, dt)
    print(f"ndjson: hunt {read / best:,.0f} ev/s; hunt --no-prefilter {read / plain:,.0f} ev/s; {hits} events fired")
    n = max(args.runs, 7)
    best_s, median = startup(one, n)
    print(f"start-up (hunt, one-event file, with .pyc): best {best_s:.2f} s, median {median:.2f} s of {n}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
