"""Exactness of the hunt's routing + literal prefilter with every compilable SigmaHQ Windows rule.

Too slow for the test suite (compiling ~3,000 rules takes minutes), so a script: it hunts the
corpus (and optionally more paths) with the gate on and off and compares the (rule id, file, record)
alert sets; exit status 1 if they differ. ``tests/hunting/test_prefilter_exact.py`` does the same
for the shipped rulesets on every run of the suite.

    python bench/check_gate_sigmahq.py                      # ../shared/sigmahq over ../shared/corpus
    python bench/check_gate_sigmahq.py --paths DIR ...
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("rules/windows", "rules-threat-hunting/windows", "rules-emerging-threats")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigmahq", type=Path, default=ROOT.parent / "shared" / "sigmahq")
    ap.add_argument("--paths", nargs="*", default=[str(ROOT.parent / "shared" / "corpus")])
    args = ap.parse_args()
    from iisdetect.engine.rule_cache import load_rules_cached
    from iisdetect.hunting.run import HuntOptions, hunt

    folders = [str(args.sigmahq / f) for f in FOLDERS if (args.sigmahq / f).is_dir()]
    t = time.perf_counter()
    report = load_rules_cached(None, folders)
    print(f"{len(report.rules)} rules compiled ({len(report.warnings)} skipped) in {time.perf_counter() - t:.0f} s")
    out = {}
    for on in (True, False):
        t = time.perf_counter()
        res = hunt(HuntOptions(paths=args.paths, ruleset=None, extra_rules=folders, correlate_window=None,
                               prefilter=on, dedupe=False))  # fmt: skip
        s = res.stats
        out[on] = {(a.rule.id, a.event.source, a.event.locator) for a in res.alerts}
        print(
            f"gate {'on ' if on else 'off'}: {len(out[on])} alerts, {s.records_read} read, {s.routed_away} routed "
            f"away, {s.prefiltered} prefiltered, {s.records_decoded} decoded, {time.perf_counter() - t:.0f} s"
        )
        assert s.records_read == s.records_decoded + s.routed_away + s.prefiltered
    if out[True] != out[False]:
        print(f"DIFFERENT: only with gate {sorted(out[True] - out[False])[:10]}, only without "
              f"{sorted(out[False] - out[True])[:10]}")  # fmt: skip
        return 1
    print("identical alerts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
