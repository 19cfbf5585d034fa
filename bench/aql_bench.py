"""Benchmark the AQL emulator: load N events into the embedded table, run the seed AQL verbatim.

    python bench/aql_bench.py [N=5000000] [--base 100000]

Events: ``--base`` simulated records (a busy IIS host's benign background plus every bundled
scenario, so the seed's three branches fire) cycled until N, each cycle on its own host name so
log sources and values vary. Nothing is kept on disk after the run (the emulator's temporary
database and Parquet parts are deleted). Prints the load rate three ways, because the machine this
runs on is often shared: wall clock, CPU time of the whole process (DuckDB's and pyarrow's threads
included) and CPU time of the loading thread alone (the Python half, the one that bounds the rate when
cores are free), then query times, result rows, RSS before loading and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from iisdetect.aql import Emulator, Options
from iisdetect.model.event import Event
from iisdetect.simulate import load_scenarios, scenario_stream
from iisdetect.simulate.background import background

SEED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "aql" / "seed_query.aql"


def base_events(n: int) -> list[Event]:
    out = [s.event for s in background("WEB01", datetime(2024, 5, 2, 0, 0, tzinfo=UTC), n, 7)]
    for scn in load_scenarios():
        out.extend(s.event for s in scenario_stream(scn, seed=7))
    return out


def cycled(base: list[Event], total: int) -> Iterator[Event]:
    """``base`` again and again until ``total``: each cycle on its own host, every event moved to one
    day (same time of day), so that the seed's 24-hour window covers nearly all of them."""
    n = 0
    cycle = 0
    while True:
        host = f"WEB{cycle:04d}.corp.local"
        for e in base:
            if n >= total:
                return
            t = "2024-05-02" + e.time_created[10:]
            yield Event(e.channel, e.provider, e.event_id, host, t, n, e.user_sid, e.data, "bench", "")
            n += 1
        cycle += 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident set (Linux /proc), 0 elsewhere."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / (1 << 20)
    except OSError:
        return 0.0


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=5_000_000)
    ap.add_argument("--base", type=int, default=100_000)
    ap.add_argument("--tmpdir", default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    base = base_events(args.base)
    print(f"generated {len(base)} base events in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    generated = sum(1 for _ in cycled(base, args.n))
    gen_s = time.perf_counter() - t0
    print(f"the event stream alone (no loading): {generated} in {gen_s:.1f} s = {generated / gen_s:,.0f} events/s")
    print(f"RSS before loading: {rss_mb():,.0f} MB (the {len(base)} base events held by the bench)", flush=True)

    emu = Emulator(options=Options(backslash_escapes=True), sysmon_logsourcetypeid=1011)
    t0, c0, th0 = time.perf_counter(), cpu_s(), time.thread_time()
    loaded = emu.load(cycled(base, args.n), tmpdir=args.tmpdir)
    load_s, load_cpu, load_th = time.perf_counter() - t0, cpu_s() - c0, time.thread_time() - th0
    print(f"load: {loaded} events in {load_s:.1f} s wall = {loaded / load_s:,.0f} events/s; process CPU "
          f"{load_cpu:.1f} s = {loaded / load_cpu:,.0f} events/CPU-s; loading thread CPU {load_th:.1f} s = "
          f"{loaded / load_th:,.0f} events/s", flush=True)  # fmt: skip
    print(f"peak RSS after loading (before any query): {peak_rss_mb():,.0f} MB", flush=True)

    query = SEED.read_text(encoding="utf-8")
    emu.prepare()
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = emu.query(query)
        timings.append(time.perf_counter() - t0)
    best = min(timings)
    print(
        f"seed query (--seed-compat): {len(result.rows)} rows; best of 3 {best:.2f} s "
        f"(all: {', '.join(f'{t:.2f}' for t in timings)}) = {loaded / best:,.0f} events/s scanned",
        flush=True,
    )
    t0 = time.perf_counter()
    n = emu.query("SELECT COUNT(*) AS n FROM events WHERE \"Process Path\" ILIKE '%w3wp.exe' LAST 1 DAYS").rows
    print(f"count query: {n[0][0]} in {time.perf_counter() - t0:.2f} s")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")
    emu.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
