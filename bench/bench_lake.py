"""Lake benchmark: native hunt over NDJSON vs hunt --engine duckdb / spark over the same rows as Parquet.

    python bench/bench_lake.py --sizes 5000000,20000000 [--engines native,duckdb,spark]
    python bench/bench_lake.py --sizes 20000000 --copies-of 5000000   # 20M rows as 4 copies of 5M

``--copies-of BASE`` builds a size as copies of the BASE-row data instead of generating it: the lake
gets the BASE lake's Parquet files copied size/BASE times (convert's cost is measured on BASE), and
native hunt reads the BASE NDJSON size/BASE times with ``--keep-duplicates`` (the lake engines do not
look for duplicates either). Same rows per second, a fraction of the disk and set-up time.

Data: the simulator's busy-IIS background (bench/gen_background.py), written once per size as
evtx-json NDJSON under bench/data/ (git-ignored) and converted with `iisdetect convert`. Each
measurement runs in its own process; peak RSS is the sum over the process tree polled from /proc
every 0.1 s (the Spark JVM is a grandchild that /usr/bin/time does not see). Start-up is a run over
a one-row lake. Figures are rows/s of the whole command, wall clock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BIN = Path(sys.executable).with_name("iisdetect")


def tree_rss_kb(pid: int) -> int:
    """RSS of ``pid`` and every descendant, from /proc (kB)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak tree RSS MiB) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.1)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - t0, peak / 1024


def prepare(size: int, data: Path) -> tuple[Path, Path]:
    data.mkdir(parents=True, exist_ok=True)
    ndjson, lake = data / f"lake_bg_{size}.evtx.jsonl", data / f"lake_{size}"
    if not ndjson.exists():
        subprocess.run([sys.executable, str(ROOT / "gen_background.py"), "--events", str(size), "-o", str(ndjson)],
                       check=True)  # fmt: skip
    if not lake.exists():
        t, _ = measure([str(BIN), "convert", str(ndjson), "-o", str(lake)])
        print(f"convert {size:,} rows: {t:.1f} s ({size / t:,.0f} rows/s)")
    return ndjson, lake


def prepare_copies(size: int, base: int, data: Path) -> tuple[list[Path], Path]:
    """``size`` rows as ``size // base`` copies of the ``base``-row NDJSON and lake."""
    import shutil

    copies = size // base
    if copies * base != size:
        raise SystemExit(f"{size} is not a multiple of {base}")
    ndjson, base_lake = prepare(base, data)
    lake = data / f"lake_{size}_as_{copies}x{base}"
    if not lake.exists():
        tmp = lake.with_name(lake.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for part in base_lake.rglob("*.parquet"):
            rel = part.relative_to(base_lake)
            (tmp / rel.parent).mkdir(parents=True, exist_ok=True)
            for k in range(copies):
                shutil.copyfile(part, tmp / rel.parent / f"copy{k}-{part.name}")
        tmp.rename(lake)
    return [ndjson] * copies, lake


def hunt_cmd(engine: str, ndjson: Path | list[Path], lake: Path) -> list[str]:
    base = [str(BIN), "hunt", "--no-correlate", "--format", "ndjson", "--no-progress"]
    if engine == "native":
        if isinstance(ndjson, list):  # copies of one file: the same events again, on purpose
            return [*base, "--keep-duplicates", *map(str, ndjson)]
        return [*base, str(ndjson)]
    extra = ["--spark-master", "local[2]"] if engine == "spark" else []
    return [*base, str(lake), "--engine", engine, *extra]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000000,20000000")
    ap.add_argument("--engines", default="native,duckdb,spark")
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    ap.add_argument("--copies-of", type=int, default=0, metavar="BASE", help="build each size from copies of BASE rows")
    ap.add_argument("--no-startup", action="store_true", help="skip the one-row start-up runs")
    args = ap.parse_args()
    engines = args.engines.split(",")
    _, tiny = prepare(1, args.data)
    for engine in [] if args.no_startup else engines:
        if engine != "native":
            t, rss = measure(hunt_cmd(engine, tiny, tiny))
            print(f"start-up {engine:7s}: {t:.2f} s, peak RSS {rss:,.0f} MiB (one-row lake)")
    for size in (int(s) for s in args.sizes.split(",")):
        ndjson, lake = prepare_copies(size, args.copies_of, args.data) if args.copies_of else prepare(size, args.data)
        for engine in engines:
            t, rss = measure(hunt_cmd(engine, ndjson, lake))
            print(f"{size:>11,} rows {engine:7s}: {t:7.1f} s {size / t:>11,.0f} rows/s  peak RSS {rss:,.0f} MiB")
        sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
