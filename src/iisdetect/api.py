"""The library surface: one call per job, plain arguments in, result objects out.

The CLI's commands parse arguments and print; everything they do is reachable from here without a
terminal (notebooks, SOAR playbooks, tests). Heavy imports (pySigma, DuckDB, sqlglot) happen inside
each function, so ``import iisdetect`` stays cheap.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iisdetect.errors import UsageError
from iisdetect.rulesets import DEFAULT_RULESET, RULESETS

if TYPE_CHECKING:
    from iisdetect.aql import Result as AqlResult
    from iisdetect.aql.lint import Finding
    from iisdetect.engine.ir import CompiledRule
    from iisdetect.hunting.run import HuntResult
    from iisdetect.model.stats import RunStats
    from iisdetect.simulate.score import Report

#: Where validate's background lives (a named busy host, outside every scenario's time range).
BACKGROUND_HOST = "WEB01.corp.local"
BACKGROUND_START = datetime(2024, 4, 1, tzinfo=UTC)


def hunt(
    paths: Sequence[str],
    ruleset: str | None = DEFAULT_RULESET,
    rules: Sequence[str] = (),
    tuning: str | Path | None = None,
    **options: Any,
) -> HuntResult:
    """Read the logs at ``paths``, run the rules, tune and correlate.

    >>> result = hunt(["examples/"], tuning="examples/tuning.example.yaml")
    >>> [(a.rule.id, a.event.locator) for a in result.alerts]   # which rule fired on which record

    ``options`` are :class:`iisdetect.hunting.run.HuntOptions` fields (``since``, ``last``, ``jobs``...).
    """
    from iisdetect.hunting.run import HuntOptions
    from iisdetect.hunting.run import hunt as run_hunt

    return run_hunt(HuntOptions(paths=list(paths), ruleset=ruleset, extra_rules=tuple(rules), tuning=tuning, **options))


def load_tuned_rules(
    ruleset: str | None = DEFAULT_RULESET,
    rules: Sequence[str] = (),
    tuning: str | Path | None = None,
    skipped: list[str] | None = None,
) -> list[CompiledRule]:
    """The rules as hunt runs them, tuning compiled in.

    Any rule warning (a rule that cannot be compiled, so an export would silently lack it) is an
    error, unless ``skipped`` is a list: then the warnings are appended to it, each naming its
    rule, and the rules that did compile are returned (``export --skip-unsupported``).
    """
    from iisdetect.engine.ruleset import load_rules
    from iisdetect.errors import RuleError
    from iisdetect.tuning.entries import load_tuning

    report = load_rules(ruleset, list(rules))
    if report.warnings:
        if skipped is None:
            raise RuleError("; ".join(report.warnings))
        skipped.extend(report.warnings)
    if not tuning:
        return report.rules
    if not Path(tuning).is_file():
        raise UsageError(f"tuning file not found: {tuning}")
    tuned = load_tuning(str(tuning))
    return [tuned.apply(r) for r in report.rules]


def export(
    target: str = "qradar",
    ruleset: str | None = DEFAULT_RULESET,
    rules: Sequence[str] = (),
    tuning: str | Path | None = None,
    last: str | None = None,
) -> str:
    """The rules (with tuning) compiled into a SIEM query; ``last`` is a duration such as ``24h``.

    >>> aql = export("qradar", ruleset="seed", last="24h")
    """
    from iisdetect.lake.sql import LAKE_TARGETS

    if target in LAKE_TARGETS:
        if last:
            raise UsageError(f"--last is not supported for {target}: filter TimeCreated in the job that runs the query")
        from iisdetect.lake.sql import ruleset_query

        untuned = load_tuned_rules(ruleset, rules, None)
        tuned = load_tuned_rules(ruleset, rules, tuning) if tuning else None
        return ruleset_query(untuned, tuned, LAKE_TARGETS[target])
    if target != "qradar":
        raise UsageError(f"unknown export target {target!r}")
    from iisdetect.exporters.qradar import export_rules
    from iisdetect.mapping.qradar import load_mapping
    from iisdetect.model.times import aql_last, parse_duration

    window = aql_last(parse_duration(last)) if last else None
    return export_rules(load_tuned_rules(ruleset, rules, tuning), load_mapping(None), window)


def run_aql(
    query: str, paths: Sequence[str], stats: RunStats | None = None, jobs: int = 1, **options: Any
) -> AqlResult:
    """Run an AQL query offline over the events at ``paths`` (QRadar's ``events`` table, emulated):
    log files and folders, or a lake written by ``convert``. ``jobs`` > 1 loads log files on that many
    processes (the same table; docs/aql.md, "Loading").

    >>> result = run_aql("SELECT COUNT(*) FROM events GROUP BY EventID", ["examples/"])
    >>> result.columns, result.rows
    """
    from iisdetect.aql import Emulator
    from iisdetect.model.stats import RunStats as Stats

    emu = Emulator(**options)
    try:
        emu.load_files(list(paths), stats if stats is not None else Stats(), jobs)
        return emu.query(query)
    finally:
        emu.close()


def lint_aql(query: str) -> list[Finding]:
    """Findings on an AQL query (unknown functions and properties, seed-style pitfalls).

    >>> [f.line() for f in lint_aql("SELECT * FROM events WHERE logsourcetypeid = 1011")]
    """
    from iisdetect.aql.lint import lint

    return lint(query)


def validate(
    ruleset: str = "all",
    tuning: str | Path | None = None,
    scenarios: Sequence[str] = (),
    background_events: int = 2000,
    seed: int = 1,
    scenario_dir: str | Path | None = None,
) -> Report:
    """Score rulesets against every scenario's ground truth (``report.ok`` is what CI checks).

    >>> report = validate("iis")
    >>> report.ok
    """
    from iisdetect.engine.detector import Detector
    from iisdetect.engine.ruleset import load_ruleset
    from iisdetect.simulate import load_scenarios, scenario_stream
    from iisdetect.simulate.background import background
    from iisdetect.simulate.score import TUNED, detector_matcher, evaluate

    if ruleset not in RULESETS:
        raise UsageError(f"unknown ruleset {ruleset!r} (choose from {', '.join(RULESETS)})")
    if background_events < 0:
        raise UsageError("--background-events must be >= 0")
    matchers = {rs: detector_matcher(Detector(load_ruleset(rs))) for rs in RULESETS[ruleset]}
    if tuning:
        matchers["iis" + TUNED] = detector_matcher(Detector(load_tuned_rules("iis", (), tuning)))
    chosen = load_scenarios(list(scenarios), Path(scenario_dir) if scenario_dir else None)
    events: Iterable[Any] = itertools.chain(
        itertools.chain.from_iterable(scenario_stream(s, seed) for s in chosen),
        background(BACKGROUND_HOST, BACKGROUND_START, background_events, seed),
    )
    return evaluate(events, matchers)


__all__ = ["export", "hunt", "lint_aql", "load_tuned_rules", "run_aql", "validate"]
