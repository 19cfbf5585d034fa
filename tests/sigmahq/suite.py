"""SigmaHQ's regression suite as test data: where it is, its cases, and the rule each case tests.

The suite is ``<repo>/../shared/sigmahq`` (SigmaHQ/sigma at commit 8eaafff1, copied unchanged; its
README explains the layout). Rules are compiled once per test session (``compiled``), so the 404
runs (202 cases x 2 shapes) cost one compile per rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from iisdetect.engine import ir
from iisdetect.engine.ruleset import LoadReport, _load_file

SIGMAHQ = Path(__file__).resolve().parents[3] / "shared" / "sigmahq"
RULE_FOLDERS = ("rules/windows", "rules-threat-hunting/windows", "rules-emerging-threats")


@dataclass(frozen=True)
class Case:
    """One regression test: rule id, its event file (``.evtx``; the ``.json`` beside it), expected count."""

    name: str
    rule_id: str
    evtx: Path
    match_count: int | None
    #: the rule file, by the suite's layout (regression_data/<rule path without .yml>/info.yml)
    rule_path: Path | None = None

    def shape(self, suffix: str) -> Path:
        return self.evtx.with_suffix(suffix)


def require_suite() -> Path:
    """The suite folder, or skip: like the corpus, it is data beside the repository, not in it."""
    if not (SIGMAHQ / "regression_data").is_dir():
        pytest.skip(f"SigmaHQ regression suite not found at {SIGMAHQ} (expected at <repo>/../shared/sigmahq)")
    return SIGMAHQ


def cases(root: Path = SIGMAHQ) -> list[Case]:
    """Every ``type: evtx`` test of every ``info.yml`` (commented-out tests are not tests)."""
    out = []
    for info in sorted((root / "regression_data").rglob("info.yml")):
        doc = yaml.safe_load(info.read_text(encoding="utf-8")) or {}
        rule_id = (doc.get("rule_metadata") or [{}])[0].get("id", "")
        for test in doc.get("regression_tests_info") or []:
            if test.get("type") == "evtx":
                rule = root / info.parent.relative_to(root / "regression_data").with_suffix(".yml")
                out.append(Case(info.parent.name, rule_id, root / test["path"], test.get("match_count"), rule))
    return out


@cache
def rule_index(root: Path = SIGMAHQ) -> dict[str, Path]:
    """Rule id -> rule file, over SigmaHQ's Windows rule folders."""
    index: dict[str, Path] = {}
    for folder in RULE_FOLDERS:
        for path in (root / folder).rglob("*.yml"):
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if isinstance(doc, dict) and doc.get("id"):
                    index[str(doc["id"])] = path
    return index


@cache
def compiled(case: Case) -> tuple[list[ir.CompiledRule], tuple[str, ...]]:
    """The case's rule alone, compiled once per session: (rules, load warnings)."""
    path = case.rule_path if case.rule_path and case.rule_path.is_file() else rule_index()[case.rule_id]
    report = LoadReport()
    rules = _load_file(path, report, "custom")
    return rules, tuple(report.warnings)
