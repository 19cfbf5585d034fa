"""Stream N benign background events of a busy IIS host into one file, for benchmarks.

Memory stays flat whatever N is (the generator holds one worker lifetime at a time and the writer a
4096-line buffer). Prints the generation rate on stderr.

    python bench/gen_background.py --events 2000000 --format evtx-json -o /tmp/bg.evtx.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from iisdetect.simulate.background import background
from iisdetect.simulate.writers import FORMATS, write


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=float, default=1_000_000, help="number of events (1e6 style accepted)")
    p.add_argument("--format", choices=list(FORMATS), default="evtx-json")
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--host", default="WEB01.corp.local")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    count = int(args.events)
    t0 = time.perf_counter()
    with open(args.output, "wb") as out:
        n = write(background(args.host, datetime(2024, 5, 1, tzinfo=UTC), count, args.seed), args.format, out)
    dt = time.perf_counter() - t0
    sys.stderr.write(f"{args.output}: {n} events in {dt:.1f}s ({n / dt:,.0f} events/s, {args.format})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
