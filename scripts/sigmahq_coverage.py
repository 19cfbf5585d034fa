"""How much of SigmaHQ's Windows ruleset iisdetect compiles, and why the rest does not.

Usage: ``.venv/bin/python scripts/sigmahq_coverage.py [SIGMAHQ_DIR] [--list]``
(default ``../shared/sigmahq``: SigmaHQ/sigma at commit 8eaafff1, see its README). Reads
``rules/windows``, ``rules-threat-hunting/windows`` and ``rules-emerging-threats`` (3,008 files),
compiles each rule alone with iisdetect's loader and prints: rules compiled / all, the same for the
rules whose logsource says ``product: windows`` (the emerging-threats folder also holds web,
Linux and appliance rules), and the skip reasons grouped by the feature they name. ``--list``
prints every skipped rule with its reason.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import yaml

from iisdetect.engine.ruleset import LoadReport, _load_file

FOLDERS = ("rules/windows", "rules-threat-hunting/windows", "rules-emerging-threats")


def rule_paths(root: Path) -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (root / folder).rglob("*.yml"))


def reason_kind(warning: str) -> str:
    """The feature a skip warning names, without the rule-specific parts (paths, values)."""
    text = warning.split(" skipped: ", 1)[-1]
    text = re.sub(r"\(field [^)]*\)", "", text)
    text = re.sub(r"\(product=.*?\)", "", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    return text.strip()


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0] if args else "../shared/sigmahq")
    paths = rule_paths(root)
    if not paths:
        print(f"no SigmaHQ rules under {root}", file=sys.stderr)
        return 2
    total = ok = win_total = win_ok = 0
    reasons: Counter[str] = Counter()
    notes = 0
    skipped: list[str] = []
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        windows = (doc.get("logsource") or {}).get("product") == "windows"
        report = LoadReport()
        compiled = _load_file(path, report, "custom")
        total += 1
        win_total += windows
        notes += len(report.notes)
        if compiled:
            ok += 1
            win_ok += windows
        else:
            for w in report.warnings:
                reasons[("windows: " if windows else "other product: ") + reason_kind(w)] += 1
                skipped.append(w)
    print(f"compiled {ok}/{total} rules ({100 * ok / total:.2f}%)")
    print(f"product: windows: compiled {win_ok}/{win_total} ({100 * win_ok / win_total:.2f}%)")
    print(f"rules compiled with a load note (filter on an absent field, keyword search): {notes}")
    print("skip reasons:")
    for reason, n in reasons.most_common():
        print(f"  {n:5d}  {reason}")
    if "--list" in argv:
        print("\n".join(skipped))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
