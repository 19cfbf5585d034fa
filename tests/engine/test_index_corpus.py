"""Differential test of the indexed Detector against the plain reference evaluator on real data.

Rulesets: the shipped ``seed`` and ``iis`` rulesets over every event of the corpus
(``<repo>/../shared/corpus``) and of every simulator scenario (with benign background), and every
compilable SigmaHQ Windows rule (``../shared/sigmahq``, SigmaHQ/sigma at 8eaafff1) over every event
of SigmaHQ's regression suite (202 cases, built to make those rules fire) plus every 25th corpus
event (the reference evaluator costs milliseconds per event with ~2,900 rules). The assertion is
equality of the fired rules, in order, event by event; the test also checks that it compared
events on which rules fire, so it cannot pass vacuously.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_rules, load_ruleset
from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.conftest import CORPUS
from tests.engine.reference import reference_matcher
from tests.sigmahq.suite import RULE_FOLDERS, SIGMAHQ, cases, require_suite

SAMPLE_STEP = 25


@cache
def corpus_events() -> tuple[Event, ...]:
    if not CORPUS.is_dir():
        pytest.skip(f"real-data corpus not found at {CORPUS} (expected at <repo>/../shared/corpus)")
    return tuple(iter_events([str(CORPUS)], RunStats()))


@cache
def simulated_events() -> tuple[Event, ...]:
    from iisdetect.simulate import load_scenarios, scenario_stream

    return tuple(s.event for scn in load_scenarios() for s in scenario_stream(scn, seed=7, background_events=300))


def regression_events() -> list[Event]:
    return [e for c in cases(SIGMAHQ) for e in iter_events([str(c.evtx)], RunStats())]


def compare(rules: list, events: list[Event] | tuple[Event, ...]) -> tuple[int, int]:
    """Assert equal results event by event; returns (events compared, events with a hit)."""
    det, ref = Detector(rules), reference_matcher(rules)
    differ: list[str] = []
    hits = 0
    for e in events:
        got = [r.id for r in det.match(e)]
        want = [r.id for r in ref(e)]
        hits += bool(want)
        if got != want and len(differ) < 20:
            differ.append(f"{e.source}@{e.locator}: indexed {got}, reference {want}")
    assert not differ, "\n".join(differ)
    return len(events), hits


@pytest.mark.parametrize("ruleset", ["seed", "iis"])
def test_shipped_rulesets_over_the_whole_corpus(ruleset: str) -> None:
    events = corpus_events() + simulated_events()
    n, hits = compare(load_ruleset(ruleset), events)
    assert n > 100_000 and hits > 50, (n, hits)


def test_sigmahq_windows_rules_over_the_regression_suite_and_a_corpus_sample() -> None:
    root = require_suite()
    report = load_rules(None, [str(Path(root) / f) for f in RULE_FOLDERS])
    assert len(report.rules) > 2_500, len(report.rules)
    events = regression_events() + list(corpus_events()[::SAMPLE_STEP])
    n, hits = compare(report.rules, events)
    assert n > 7_000 and hits > 300, (n, hits)
