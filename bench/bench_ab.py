"""A/B of the hunt hot path: this tree against another, alternately, on the same files (issue 18).

Why: on a shared VM the raw parse of one file moves by 15-25% between runs minutes apart, so two
single runs of ``bench_speed.py`` (one per tree) cannot show a 5% change. Here each round runs one
fresh process per tree (``PYTHONPATH`` set to the tree's ``src``), alternately (which tree goes first
alternates by round), and each process measures, in CPU time, best of ``--repeat``: the raw ``evtx``
parse (EVTX files) and the hunt hot path with the default ruleset and the gate on (what
``bench_speed.py`` measures). The other tree is any checkout, e.g. ``git worktree add /tmp/old <commit>``.

``--warm`` keeps one matcher for all of a process's passes, so a pass is the hot path alone (the
gate's plans and scans are compiled by an untimed first pass). The VM's slow spells come in bursts of
a second or more: the best of many short passes (a file of ~10k records, ``--repeat 80``) varied by
up to 5% between runs of the same code, the best of five 1 s passes by 10-25%.

    python bench/bench_ab.py /tmp/old/src bench/data/security_x40.evtx bench/data/otrf_200000.ndjson
    python bench/bench_speed.py --repeat 20 --security-repeat 4 --runs 1   # small files, then:
    python bench/bench_ab.py /tmp/old/src bench/data/sysmon_x20.evtx --warm --repeat 80
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
HERE_SRC = ROOT.parent / "src"

CHILD = r"""
import sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
import evtx
import bench_speed as B
from iisdetect.engine.ruleset import load_rules
rules = load_rules("iis").rules
path = Path({path!r})
if {warm}:  # one matcher for every pass, its gate's plans compiled by an untimed first pass
    from iisdetect.hunting.run import Matcher
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events
    matcher = Matcher(rules, None, "", "")
    matcher.dedupe = False
    matcher.use_gate(True)

    def one_pass():
        stats = RunStats()
        matcher.consume(iter_events([str(path)], stats, gate=matcher.gate), [], stats)
        return stats.records_read

    one_pass()
else:
    def one_pass():
        return B.hunt_pass(path, rules, True)[0]
raw = hunt = float("inf")
for _ in range({repeat}):
    if path.suffix == ".evtx":
        t = time.process_time()
        n = sum(1 for _ in evtx.PyEvtxParser(str(path)).records_json())
        raw = min(raw, time.process_time() - t)
    t = time.process_time()
    n = one_pass()
    hunt = min(hunt, time.process_time() - t)
print(n, raw, hunt)
"""


def measure(src: Path, path: Path, repeat: int, warm: bool = False) -> tuple[int, float, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = CHILD.format(bench=str(ROOT), path=str(path), repeat=repeat, warm=warm)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    n, raw, hunt = out.stdout.split()
    return int(n), float(raw), float(hunt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other tree's src folder")
    ap.add_argument("files", type=Path, nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="passes per process (best of)")
    ap.add_argument(
        "--warm", action="store_true",
        help="one matcher for all passes (the hot path alone, no rule or scan compiling): with a small "
        "file and --repeat 60 or more, the steadiest measure on a shared VM",
    )  # fmt: skip
    args = ap.parse_args()
    trees = {"this": HERE_SRC, "other": args.other}
    for path in args.files:
        for rnd in range(1, args.rounds + 1):
            parts = {}
            order = list(trees.items()) if rnd % 2 else list(trees.items())[::-1]  # who goes first alternates
            for label, src in order:
                n, raw, hunt = measure(src, path, args.repeat, args.warm)
                ratio = f", hunt/raw {raw / hunt:.2f}" if raw != float("inf") else ""
                parts[label] = f"{label}: {n / hunt:,.0f} ev/s{ratio}"
            print(f"{path.name} round {rnd}: " + "; ".join(parts[k] for k in trees), flush=True)


if __name__ == "__main__":
    main()
