"""SigmaHQ's own regression suite: every case, in both shapes, each rule alone.

Judged as SigmaHQ's runner judges (SigmaHQ/sigma ``tests/regression_tests_runner.py``): fewer matches
than ``match_count`` (or none where it is absent) fails; more is a warning, not a failure. A match is
an event the rule fires on. The ``.evtx`` goes through the EVTX reader and the ``.json`` (pyevtx's
``records_json`` shape) through the evtx-json reader, so both readers and the engine are under test.
"""

from __future__ import annotations

import warnings

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.sigmahq.suite import SIGMAHQ, Case, cases, compiled, require_suite

CASES = cases() if (SIGMAHQ / "regression_data").is_dir() else []


def test_the_suite_has_all_202_cases() -> None:
    require_suite()
    assert len(CASES) == 202
    assert len({c.rule_id for c in CASES}) == 202


@pytest.mark.parametrize("suffix", [".evtx", ".json"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_regression_case(case: Case, suffix: str) -> None:
    require_suite()
    rules, load_warnings = compiled(case)
    assert rules, f"rule {case.rule_id} did not compile: {load_warnings}"
    (rule,) = rules
    assert rule.id == case.rule_id
    detector = Detector(rules)
    stats = RunStats()
    matched = sum(1 for event in iter_events([str(case.shape(suffix))], stats) if detector.match(event))
    assert stats.records_read > 0 and stats.records_skipped == 0, stats.skips
    want = case.match_count
    if want is None:
        assert matched > 0, f"{case.name}{suffix}: no match"
        return
    assert matched >= want, f"{case.name}{suffix}: {matched} matches, expected {want}"
    if matched > want:
        warnings.warn(f"{case.name}{suffix}: {matched} matches, only {want} expected", stacklevel=1)
