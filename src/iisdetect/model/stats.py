"""Run accounting: nothing read is lost silently.

Every reader reports into one ``RunStats``: files opened, records read (parsed into events),
records skipped with a reason and a location. The invariant the tests check over the whole corpus
is ``records_seen == records_read + records_skipped``, and in a hunt
``records_read == records_decoded + routed_away + prefiltered``. A skip may stand for several records (an EVTX
chunk that held 89 records is one skip entry of ``count`` 89), so ``records_skipped`` counts records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: How many skip details are kept verbatim; beyond that only the per-reason counts grow.
MAX_SKIP_DETAILS = 200


@dataclass(frozen=True, slots=True)
class Skip:
    """One record, chunk or line that could not be used: where it was and why."""

    source: str
    locator: str
    reason: str
    detail: str = ""
    count: int = 1


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An event read a second time: where the repeat was, and the identity it shares with the first read."""

    source: str
    locator: str
    computer: str
    channel: str
    record_id: int
    time: str


@dataclass
class RunStats:
    """The accounting of one run; every figure is a plain count so workers' stats add up (:meth:`merge`).

    Files: ``files`` were read as a known format and ``formats`` splits exactly them (its values sum
    to ``files``); ``files_ignored`` had unknown content and a name that promises no event data
    (README.md, *.yaml, a DLL in a triage package). ``files_in_containers`` of those ``files +
    files_ignored`` were members of the ``containers`` archives or compressed streams given or found
    in a folder (a container inside one is not counted again). ``files_failed`` counts problems: a
    file that could not be read, or one cut short after part of it was read (then also in ``files``).
    """

    files: int = 0
    files_failed: int = 0
    files_ignored: int = 0
    containers: int = 0
    files_in_containers: int = 0
    records_read: int = 0
    records_skipped: int = 0
    #: of ``records_read``: records a hunt never decoded because no rule admits their EventID and
    #: channel (``routed_away``), or because none of the literals some rule needs is in their raw text
    #: (``prefiltered``); the rest were decoded and met the rules (engine/prefilter.py, docs/hunt.md)
    routed_away: int = 0
    prefiltered: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    skips: list[Skip] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    filtered_by_time: int = 0
    #: events whose time could not be parsed (kept apart from "outside the time window": a garbage
    #: time must not hide an event from a --since/--last hunt)
    untimed: int = 0
    #: events dated beyond the wall clock (plus a margin) that were not used to anchor ``--last``
    future_times: int = 0
    alerts_by_type: Counter[str] = field(default_factory=Counter)
    suppressed_by_entry: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    #: the same event (Computer, Channel, EventRecordID, TimeCreated) read again from another file or
    #: position (VSS copies, overlapping exports): counted once, the repeats listed here (first N)
    duplicate_events: int = 0
    #: whether repeats were looked for (off for a single plain file, or with --keep-duplicates)
    duplicates_checked: bool = True
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def records_seen(self) -> int:
        return self.records_read + self.records_skipped

    @property
    def records_decoded(self) -> int:
        """Records read and decoded into events (``records_read - routed_away - prefiltered``)."""
        return self.records_read - self.routed_away - self.prefiltered

    def skip(self, source: str, locator: str, reason: str, detail: str = "", count: int = 1) -> None:
        """Count ``count`` unusable records at one place; keep the location for the report (first N only)."""
        self.records_skipped += count
        self.skipped_by_reason[reason] += count
        if len(self.skips) < MAX_SKIP_DETAILS:
            self.skips.append(Skip(source, locator, reason, detail[:300], count))

    def file_failed(self, source: str, reason: str, detail: str = "") -> None:
        """A whole file could not be read (not a record-level error)."""
        self.files_failed += 1
        if len(self.skips) < MAX_SKIP_DETAILS:
            self.skips.append(Skip(source, "file", reason, detail[:300]))

    def duplicate(self, dup: Duplicate) -> None:
        """Count one repeated event (it was read, but is left out of detection)."""
        self.duplicate_events += 1
        if len(self.duplicates) < MAX_SKIP_DETAILS:
            self.duplicates.append(dup)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def merge(self, other: RunStats) -> None:
        """Fold a worker's stats into this one (parallel reading)."""
        self.files += other.files
        self.files_failed += other.files_failed
        self.files_ignored += other.files_ignored
        self.containers += other.containers
        self.files_in_containers += other.files_in_containers
        self.records_read += other.records_read
        self.records_skipped += other.records_skipped
        self.routed_away += other.routed_away
        self.prefiltered += other.prefiltered
        self.skipped_by_reason.update(other.skipped_by_reason)
        room = MAX_SKIP_DETAILS - len(self.skips)
        if room > 0:
            self.skips.extend(other.skips[:room])
        self.formats.update(other.formats)
        self.filtered_by_time += other.filtered_by_time
        self.untimed += other.untimed
        self.future_times += other.future_times
        self.alerts_by_type.update(other.alerts_by_type)
        self.suppressed_by_entry.update(other.suppressed_by_entry)
        for w in other.warnings:
            self.warn(w)
        self.duplicate_events += other.duplicate_events
        room = MAX_SKIP_DETAILS - len(self.duplicates)
        if room > 0:
            self.duplicates.extend(other.duplicates[:room])

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "files_failed": self.files_failed,
            "formats": dict(self.formats),
            "files_ignored": self.files_ignored,
            "containers": self.containers,
            "files_in_containers": self.files_in_containers,
            "records_read": self.records_read,
            "records_skipped": self.records_skipped,
            "records_decoded": self.records_decoded,
            "routed_away": self.routed_away,
            "prefiltered": self.prefiltered,
            "skipped_by_reason": dict(self.skipped_by_reason),
            "skips": [_skip_dict(s) for s in self.skips],
            "filtered_by_time": self.filtered_by_time,
            "untimed": self.untimed,
            "future_times": self.future_times,
            "alerts_by_type": dict(self.alerts_by_type),
            "suppressed_by_entry": dict(self.suppressed_by_entry),
            "warnings": list(self.warnings),
            "duplicates_checked": self.duplicates_checked,
            "duplicate_events": self.duplicate_events,
            "duplicates": [
                {
                    "source": d.source,
                    "locator": d.locator,
                    "Computer": d.computer,
                    "Channel": d.channel,
                    "EventRecordID": d.record_id,
                    "TimeCreated": d.time,
                }
                for d in sorted(self.duplicates, key=lambda d: (d.source, d.locator))
            ],  # fmt: skip
        }


def _skip_dict(s: Skip) -> dict[str, Any]:
    return {"source": s.source, "locator": s.locator, "reason": s.reason, "detail": s.detail, "count": s.count}
