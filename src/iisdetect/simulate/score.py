"""Score rulesets against the simulator's hand-written ground truth (no printing here).

Why the truth is never derived from the rules: ``validate`` exists to catch rule regressions, so the
expectations come from each scenario's YAML. Two kinds of numbers are reported:

- **per detection type** (event, type) pairs: TP = the type fired on a malicious event; FP = it
  fired on a benign event; FN = a required type did not fire.
- **per scenario**, per event: TP = a scored malicious event got any alert; FN = it got none;
  FP = a benign event got any alert. Malicious events whose step only *allows* a type (later
  records of an EID 29 burst, ``expect_events``) count when they fire and are ignored otherwise.

Only alerts are scored (:data:`NOT_ALERTS`): a rule at level informational reports a known module and
is checked by the rule tests, not here.

A **problem** (non-zero exit) is any departure from the declared expectations: a required type that
did not fire (unless the step documents it under ``known_miss``), a type that fired but was neither
expected, allowed nor a declared ``known_fp``, a declared known FP that no longer fires, or a
documented known miss that is now detected. Known misses and FPs still count in the metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from iisdetect.model.event import Event
from iisdetect.simulate.model import SimEvent

#: A ruleset as ``validate`` sees it: event in, detection types that fired out.
Matcher = Callable[[Event], Iterable[str]]


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def as_dict(self) -> dict[str, object]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall}


@dataclass(frozen=True, slots=True)
class Problem:
    """An expectation that failed: which ruleset, which event, and what to do about it."""

    ruleset: str
    scenario: str
    event_key: str
    message: str


@dataclass(slots=True)
class ScenarioSummary:
    events: int = 0
    malicious: int = 0


@dataclass
class Report:
    rulesets: tuple[str, ...]
    by_type: dict[str, dict[str, Counts]] = field(default_factory=dict)
    by_scenario: dict[str, dict[str, Counts]] = field(default_factory=dict)
    scenarios: dict[str, ScenarioSummary] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``validate --format json``)."""
        return {
            "ok": self.ok,
            "rulesets": list(self.rulesets),
            "scenarios": {k: {"events": v.events, "malicious": v.malicious} for k, v in self.scenarios.items()},
            "by_type": {rs: {t: c.as_dict() for t, c in sorted(m.items())} for rs, m in self.by_type.items()},
            "by_scenario": {rs: {s: c.as_dict() for s, c in m.items()} for rs, m in self.by_scenario.items()},
            "problems": [
                {"ruleset": p.ruleset, "scenario": p.scenario, "event": p.event_key, "message": p.message}
                for p in self.problems
            ],
        }


#: Suffix of a tuned ruleset's name (``iis+tuning``): scored against the base ruleset's truth.
TUNED = "+tuning"


def _score_event(report: Report, rs: str, sim: SimEvent, fired: set[str]) -> None:
    """Score one event. A tuned ruleset uses its base ruleset's truth, must still fire on every
    malicious event, and may silence declared false positives (that is what tuning is for)."""
    t = sim.truth
    base = rs.removesuffix(TUNED)
    tuned = base != rs
    required = set(t.expect.get(base, ()))
    allowed = set(t.allow.get(base, ()))
    known_fp = set(t.known_fp.get(base, ()))
    missed_ok = base in t.known_miss
    types = report.by_type.setdefault(rs, {})
    scen = report.by_scenario.setdefault(rs, {}).setdefault(t.scenario, Counts())

    def problem(message: str) -> None:
        report.problems.append(Problem(rs, t.scenario, t.event_key, message))

    for dt in fired:
        counts = types.setdefault(dt, Counts())
        if t.malicious:
            counts.tp += 1
        else:
            counts.fp += 1
        if dt not in required | allowed | known_fp:
            kind = "malicious" if t.malicious else "benign"
            problem(f"{dt} fired on a {kind} event but is not declared (expect/known_fp)")
    for dt in sorted(required - fired):
        types.setdefault(dt, Counts()).fn += 1
        if not missed_ok:
            problem(f"expected {dt} did not fire")
    if missed_ok and required and required & fired:
        problem(f"documented known_miss now detected ({', '.join(sorted(required & fired))}): update the scenario")
    for dt in sorted(known_fp - fired) if not tuned else ():
        problem(f"declared known_fp {dt} no longer fires: remove it from the scenario")
    if not t.scored:  # a side record (EID 50 commit): only an unexpected alert matters (handled above)
        return
    if t.malicious:
        scored = bool(required) or (missed_ok and not allowed)
        if fired:
            scen.tp += 1
        elif scored:
            scen.fn += 1
    elif fired:
        scen.fp += 1


def evaluate(events: Iterable[SimEvent], matchers: Mapping[str, Matcher]) -> Report:
    """Run every matcher over ``events`` (streamed) and compare with each event's ground truth."""
    report = Report(tuple(matchers))
    for rs in matchers:
        report.by_type[rs] = {}
        report.by_scenario[rs] = {}
    for sim in events:
        summary = report.scenarios.setdefault(sim.truth.scenario, ScenarioSummary())
        summary.events += 1
        summary.malicious += sim.truth.malicious
        for rs, match in matchers.items():
            _score_event(report, rs, sim, set(match(sim.event)))
    for rs in matchers:  # every scenario gets a row, even one no rule touched
        for name in report.scenarios:
            report.by_scenario[rs].setdefault(name, Counts())
    return report


#: rule levels that are reports, not alerts: a known module (baseline match) is reported at informational
NOT_ALERTS = frozenset({"informational"})


def detector_matcher(detector: object, include_informational: bool = False) -> Matcher:
    """Adapt ``iisdetect.engine.detector.Detector`` to a :data:`Matcher` (types, deduplicated).

    Only alerts are scored: informational reports (known modules from the baseline) are what a benign
    vendor install is supposed to produce, so they count neither as TP nor FP unless asked for.
    """

    def match(event: Event) -> Iterable[str]:
        rules = detector.match(event)  # type: ignore[attr-defined]
        return {r.detection_type for r in rules if include_informational or r.level not in NOT_ALERTS}

    return match
