"""Library entry points: what the CLI calls, usable from Python without any terminal.

``hunt`` is the main job: read -> normalise -> detect -> (tune, correlate) -> result object.
It streams: events are never kept, only alerts (and the accounting), so memory stays flat however
large the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from iisdetect.engine.detector import Detector
from iisdetect.engine.ir import CompiledRule
from iisdetect.engine.prefilter import RecordGate
from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import Alert
from iisdetect.hunting.duplicates import cross_unit_duplicates, dedupe_wanted, event_identity
from iisdetect.hunting.selection import RuleSelection
from iisdetect.model.event import Event
from iisdetect.model.stats import Duplicate, RunStats
from iisdetect.model.times import format_iso, parse_time


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
    jobs: int = 1
    #: Stream alerts out instead of keeping them: ``sink(alert, suppressing_entry_or_None)``. Memory then
    #: stays flat however many alerts fire; needs correlation off and no ``--last`` anchored afterwards.
    sink: Callable[[Alert, str | None], None] | None = None
    #: ``--min-level/--status/--tags/--rule-id``
    select: RuleSelection = field(default_factory=RuleSelection)
    #: count repeated events once (None = auto: on unless the input is a single plain file)
    dedupe: bool | None = None
    #: ``native`` reads logs; ``duckdb``/``spark`` run the rules as SQL over canonical Parquet (``convert``)
    engine: str = "native"
    spark_master: str | None = None
    #: skip records no rule can match before decoding them (EventID/channel routing and the literal
    #: prefilter, engine/prefilter.py); off with ``--no-prefilter``, and off by itself for ``--last``
    #: without ``--now`` (its anchor is the newest event *read*, so every record must be decoded)
    prefilter: bool = True
    #: keep alerts on disk with only correlation's columns in memory (the CLI; docs/correlation.md):
    #: the result then has ``spooled`` (rendered by report/spooled.py) and empty ``alerts``/``incidents``
    spool: bool = False


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
    #: ``HuntOptions.spool``: the alerts and suppressed alerts on disk, with the incident plan
    spooled: Any = None


def prepare_rules(opts: HuntOptions, stats: RunStats) -> tuple[list[CompiledRule], Any]:
    """Compile the rules (warnings go to the run summary) and load the tuning file if any.

    Through the per-user compiled-rules cache (engine/rule_cache.py): pySigma is imported and the
    YAML compiled only when a rule file, a mapping or pySigma changed.
    """
    from iisdetect.engine.rule_cache import load_rules_cached

    report = load_rules_cached(opts.ruleset, opts.extra_rules)
    for w in (*report.warnings, *report.notes):
        stats.warn(w)
    if not report.rules:
        raise UsageError("no usable rules loaded")
    rules = opts.select.apply(report.rules)
    tuning = None
    if opts.tuning:
        from iisdetect.tuning.entries import load_tuning

        tuning = load_tuning(opts.tuning)
    return rules, tuning


#: One event that fired: the event, ids of rules kept, and (rule id, tuning entry) pairs suppressed.
Hit = tuple[Event, list[str], list[tuple[str, str]]]


class Matcher:
    """The per-event hot loop, shared by the one-process and the multi-process paths.

    Untuned rules decide whether anything fired; tuned rules (tuning compiled into the IR, as the
    exports carry it) decide what is kept, and the tuning names the entry that suppressed the rest.
    """

    def __init__(self, rules: list[CompiledRule], tuning: Any, since: str, until: str) -> None:
        #: times beyond this are forged or clock errors: counted, never the ``--last`` anchor
        self.future_cap = format_iso(datetime.now(UTC) + FUTURE_MARGIN)
        self.rules = rules
        self.tuning = tuning
        self.tuned = [tuning.apply(r) for r in rules] if tuning else rules
        self.detector = Detector(rules)
        self.tuned_detector = Detector(self.tuned) if tuning else None
        self.since, self.until = since, until
        #: :func:`event_identity` hashes of the events read so far (~60 bytes per event)
        self.seen: set[int] = set()
        #: when a list (``--jobs`` workers): every first-read event's identity and place, for the parent
        #: to find repeats across work units
        self.record_keys: list[tuple[int, str, str, int, str, str, str]] | None = None
        #: off when the input is one plain file (nothing to repeat; memory stays flat) or on request
        self.dedupe = True
        #: what the readers may skip before decoding (None: decode every record)
        self.gate: RecordGate | None = None

    def use_gate(self, on: bool = True) -> None:
        """Let readers route and prefilter records for these (untuned) rules, or decode all."""
        self.gate = RecordGate(self.rules) if on else None

    def consume(self, events: Iterable[Event], hits: Any, stats: RunStats) -> str:
        """Match a stream, appending hits; returns the newest plausible event time (for ``--last``).

        An event with no readable time is counted (``stats.untimed``) and still matched: a garbage
        time must not hide it from a ``--since``/``--last`` hunt. A time beyond the wall clock plus
        :data:`FUTURE_MARGIN` is counted (``stats.future_times``) and not used as the anchor.
        An event already read (same identity, :func:`event_identity`: a VSS copy or an overlapping
        export) is counted in ``stats.duplicate_events`` and not matched again.
        """
        newest = ""
        since, until, cap = self.since, self.until, self.future_cap
        match = self.detector.match
        seen = self.seen
        dedupe = self.dedupe
        for event in events:
            t = event.time_created
            if not t:
                stats.untimed += 1
            elif t > newest:
                if t > cap:
                    stats.future_times += 1
                else:
                    newest = t
            rid = event.record_id
            if dedupe and rid is not None:
                key = event_identity(event)
                if key in seen:
                    stats.duplicate(Duplicate(event.source, event.locator, event.computer, event.channel, rid, t))
                    continue
                seen.add(key)
                if self.record_keys is not None:
                    self.record_keys.append((key, event.computer, event.channel, rid, t, event.source, event.locator))
            if t and ((since and t < since) or (until and t > until)):
                stats.filtered_by_time += 1
                continue
            fired = match(event)
            if not fired:
                continue
            if self.tuned_detector is None:
                hits.append((event, [r.id for r in fired], []))
                continue
            kept_ids = {r.id for r in self.tuned_detector.match(event)}
            kept = [r.id for r in fired if r.id in kept_ids]
            gone = [
                (r.id, self.tuning.suppressing_entry(r, event) or "(tuning)") for r in fired if r.id not in kept_ids
            ]
            hits.append((event, kept, gone))
        return newest


#: How far past the wall clock an event time may be (clock skew between hosts) and still anchor ``--last``.
FUTURE_MARGIN = timedelta(days=1)


def build_matcher(
    ruleset: str | None,
    extra: tuple[str, ...],
    tuning: str | None,
    since: str,
    until: str,
    select: RuleSelection | None = None,
    dedupe: bool = True,
    gate: bool = False,
) -> Matcher:
    """Module-level so worker processes can build their own matcher (rules compiled once each)."""
    opts = HuntOptions(paths=(), ruleset=ruleset, extra_rules=extra, tuning=tuning, select=select or RuleSelection())
    rules, tun = prepare_rules(opts, RunStats())
    matcher = Matcher(rules, tun, since, until)
    matcher.dedupe = dedupe
    matcher.use_gate(gate)
    return matcher


def hunt(opts: HuntOptions) -> HuntResult:
    from iisdetect.readers import iter_events

    stats = RunStats()
    rules, tuning = prepare_rules(opts, stats)
    since, until = opts.since, opts.until
    if opts.last is not None and opts.now is not None:
        try:
            start = opts.now - opts.last
        except OverflowError:  # --last longer than the calendar
            start = datetime.min.replace(tzinfo=UTC)
        since = max(since, start) if since else start
    matcher = Matcher(rules, tuning, format_iso(since), format_iso(until))
    matcher.dedupe = opts.engine == "native" and dedupe_wanted(opts)  # Parquet lakes: see docs/lake.md
    stats.duplicates_checked = matcher.dedupe
    # a time window counts every record outside it (filtered_by_time): such hunts decode every record
    matcher.use_gate(opts.prefilter and not (since or until or opts.last is not None))

    if opts.sink is not None and (opts.correlate_window is not None or (opts.last and opts.now is None)):
        raise UsageError("streaming alerts needs correlation off and --last anchored with --now")
    hits = _Collector({r.id: r for r in matcher.tuned}, {r.id: r for r in rules}, stats, opts.sink, opts.spool)
    newest = ""
    notes: list[str] = []
    units = _parallel_units(opts) if opts.engine == "native" else []
    if opts.engine != "native":
        from iisdetect.lake.engines import lake_hunt

        tuned = matcher.tuned if tuning else None
        newest = lake_hunt(
            opts.engine, opts.paths, rules, tuned, tuning, matcher.since, matcher.until, hits, stats, opts.spark_master
        )
    elif units:
        from iisdetect.hunting.parallel import clamp_jobs, run_parallel

        jobs, note = clamp_jobs(opts.jobs, len(units))
        if note:
            notes.append(note)

        factory = partial(
            build_matcher,
            opts.ruleset,
            tuple(opts.extra_rules),
            str(opts.tuning) if opts.tuning else None,
            matcher.since,
            matcher.until,
            opts.select,
            matcher.dedupe,
            matcher.gate is not None,
        )
        seen: set[int] = set()
        for part in run_parallel(units, jobs, factory):
            stats.merge(part.stats)
            repeated = cross_unit_duplicates(part.keys, seen, stats) if matcher.dedupe else set()
            for hit, key in zip(part.hits, part.hit_keys or [None] * len(part.hits), strict=True):
                if key is None or key not in repeated:
                    hits.append(hit)
            newest = max(newest, part.newest)
            if opts.on_progress:
                opts.on_progress(part.nbytes)
    else:
        events = iter_events(opts.paths, stats, on_progress=opts.on_progress, gate=matcher.gate)
        newest = matcher.consume(events, hits, stats)

    result = HuntResult(hits.alerts, hits.suppressed, [], stats, matcher.tuned, (since, until), newest, notes)
    result.spooled = hits.spooled
    if opts.last is not None and opts.now is None:
        _apply_last(result, opts.last)
    if result.spooled is not None:
        stats.alerts_by_type.update(result.spooled.type_counts())
        if opts.correlate_window is not None:
            result.spooled.correlate(opts.correlate_window)
        return result
    for a in result.alerts:
        stats.alerts_by_type[a.detection_type] += 1
    if opts.correlate_window is not None and result.alerts:
        from iisdetect.hunting.incidents import correlate

        result.incidents = correlate(result.alerts, opts.correlate_window)
    return result


def _parallel_units(opts: HuntOptions) -> list:
    """Work units for ``--jobs`` > 1, or [] when one process is as good (stdin, a single unit).

    ``jobs`` is clamped where the units are known (:func:`iisdetect.hunting.parallel.clamp_jobs`).
    """
    if opts.jobs <= 1 or "-" in opts.paths:
        return []
    from iisdetect.hunting.parallel import plan_units
    from iisdetect.readers import plan_files

    units = plan_units(plan_files(opts.paths))
    return units if len(units) > 1 else []


class _Collector:
    """Turns hits into alerts as they arrive: kept for correlation/--last, or streamed to a sink."""

    def __init__(
        self,
        by_id: dict[str, CompiledRule],
        raw_by_id: dict[str, CompiledRule],
        stats: RunStats,
        sink: Callable[[Alert, str | None], None] | None,
        spool: bool = False,
    ) -> None:
        self.by_id, self.raw_by_id, self.stats, self.sink = by_id, raw_by_id, stats, sink
        self.alerts: list[Alert] = []
        self.suppressed: list[tuple[Alert, str]] = []
        self.spooled = None
        if spool and sink is None:
            from iisdetect.hunting.spool import AlertSpool
            from iisdetect.hunting.stream_incidents import SpooledAlerts

            self.spooled = SpooledAlerts(AlertSpool(), AlertSpool(with_columns=False))

    def append(self, hit: Hit) -> None:
        event, kept, gone = hit
        for rid in kept:
            alert = Alert(self.by_id[rid], event)
            if self.spooled is not None:
                self.spooled.alerts.add(alert)
            elif self.sink is None:
                self.alerts.append(alert)
            else:
                self.stats.alerts_by_type[alert.detection_type] += 1
                self.sink(alert, None)
        for rid, entry in gone:
            self.stats.suppressed_by_entry[entry] += 1
            alert = Alert(self.raw_by_id[rid], event)
            if self.spooled is not None:
                self.spooled.suppressed_spool.add(alert, entry)
            elif self.sink is None:
                self.suppressed.append((alert, entry))
            else:
                self.sink(alert, entry)


def _apply_last(result: HuntResult, last: timedelta) -> None:
    """``--last`` without ``--now`` is relative to the newest event read (old logs stay useful)."""
    if not result.newest_event:
        return
    anchor = parse_time(result.newest_event)
    try:
        start = anchor - last
    except OverflowError:  # --last longer than the calendar: everything is inside
        start = datetime.min.replace(tzinfo=UTC)
    result.window = (max(result.window[0], start) if result.window[0] else start, result.window[1])
    start_s = format_iso(start)
    if result.spooled is not None:
        from iisdetect.hunting.spool import micros

        dropped = result.spooled.keep_from(micros(start_s))
    else:
        keep = [a for a in result.alerts if not a.event.time_created or a.event.time_created >= start_s]
        dropped = len(result.alerts) - len(keep)
        result.alerts = keep
    result.notes.append(
        f"--last {last} anchored at the newest event read ({result.newest_event}); "
        f"{dropped} alert(s) before {start_s} left out"
    )
    if result.stats.future_times:
        result.notes.append(
            f"{result.stats.future_times} event(s) dated after the clock + {FUTURE_MARGIN.days} day "
            "were not used as the --last anchor (forged or skewed times; their alerts are kept)"
        )
