"""Library entry points: what the CLI calls, usable from Python without any terminal.

``hunt`` is the main job: read -> normalise -> detect -> (tune, correlate) -> result object.
It streams: events are never kept, only alerts (and the accounting), so memory stays flat however
large the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iisdetect.accounting import RunStats
from iisdetect.alerts import Alert
from iisdetect.engine.ir import CompiledRule
from iisdetect.engine.python import Detector
from iisdetect.errors import UsageError
from iisdetect.events import parse_time
from iisdetect.rules import load_rules


@dataclass
class HuntOptions:
    """Everything a hunt needs; the CLI fills it from arguments, tests build it directly."""

    paths: Sequence[str]
    ruleset: str | None = "iis"
    extra_rules: Sequence[str] = ()
    tuning: str | Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    last: timedelta | None = None
    now: datetime | None = None
    correlate_window: timedelta | None = timedelta(hours=1)
    on_progress: Callable[[int], None] | None = None


@dataclass
class HuntResult:
    alerts: list[Alert]
    suppressed: list[tuple[Alert, str]]
    incidents: list[Any]
    stats: RunStats
    rules: list[CompiledRule]
    window: tuple[datetime | None, datetime | None] = (None, None)
    newest_event: str = ""
    notes: list[str] = field(default_factory=list)


def prepare_rules(opts: HuntOptions, stats: RunStats) -> tuple[list[CompiledRule], Any]:
    """Compile the rules (warnings go to the run summary) and load the tuning file if any."""
    report = load_rules(opts.ruleset, opts.extra_rules)
    for w in report.warnings:
        stats.warn(w)
    if not report.rules:
        raise UsageError("no usable rules loaded")
    tuning = None
    if opts.tuning:
        from iisdetect.tuning import load_tuning

        tuning = load_tuning(opts.tuning)
    return report.rules, tuning


def hunt(opts: HuntOptions) -> HuntResult:
    from iisdetect.readers import iter_events

    stats = RunStats()
    rules, tuning = prepare_rules(opts, stats)
    tuned = [tuning.apply(r) for r in rules] if tuning else rules
    tuned_by_id = {r.id: r for r in tuned}
    detector = Detector(rules)
    tuned_detector = Detector(tuned) if tuning else None

    since, until = opts.since, opts.until
    if opts.last is not None and opts.now is not None:
        since = max(since, opts.now - opts.last) if since else opts.now - opts.last
    since_s = _iso(since)
    until_s = _iso(until)

    alerts: list[Alert] = []
    suppressed: list[tuple[Alert, str]] = []
    newest = ""
    match = detector.match
    for event in iter_events(opts.paths, stats, on_progress=opts.on_progress):
        t = event.time_created
        if t > newest:
            newest = t
        if (since_s and t < since_s) or (until_s and t > until_s):
            stats.filtered_by_time += 1
            continue
        hits = match(event)
        if not hits:
            continue
        kept = tuned_detector.match(event) if tuned_detector else hits
        kept_ids = {r.id for r in kept}
        for rule in hits:
            if rule.id in kept_ids:
                alerts.append(Alert(tuned_by_id[rule.id], event))
            else:
                entry = tuning.suppressing_entry(rule, event) or "(tuning)"
                suppressed.append((Alert(rule, event), entry))
                stats.suppressed_by_entry[entry] += 1

    result = HuntResult(alerts, suppressed, [], stats, tuned, (since, until), newest)
    if opts.last is not None and opts.now is None:
        _apply_last(result, opts.last)
    for a in result.alerts:
        stats.alerts_by_type[a.detection_type] += 1
    if opts.correlate_window is not None and result.alerts:
        from iisdetect.correlate import correlate

        result.incidents = correlate(result.alerts, opts.correlate_window)
    return result


def _apply_last(result: HuntResult, last: timedelta) -> None:
    """``--last`` without ``--now`` is relative to the newest event read (old logs stay useful)."""
    if not result.newest_event:
        return
    anchor = parse_time(result.newest_event)
    start = anchor - last
    result.window = (max(result.window[0], start) if result.window[0] else start, result.window[1])
    start_s = _iso(start)
    keep = [a for a in result.alerts if a.event.time_created >= start_s]
    dropped = len(result.alerts) - len(keep)
    result.alerts = keep
    result.notes.append(
        f"--last {last} anchored at the newest event read ({result.newest_event}); "
        f"{dropped} alert(s) before {start_s} left out"
    )


def _iso(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
