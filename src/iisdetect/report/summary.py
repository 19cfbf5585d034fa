"""The accounting every run ends with: what ran on what, what was read, skipped, repeated and found.

The JSON summary names everything needed to reproduce or compare a run: the tool version, each
ruleset with the number of rules and a SHA-256 over its rule files (so two results can be told to
come from the same rules), the inputs as given, and the time anchor (``--since/--until``, ``--last``
and what it was anchored to). The human summary on stderr says the same briefly.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from iisdetect import __version__
from iisdetect.engine.ir import CompiledRule
from iisdetect.model.stats import RunStats
from iisdetect.report.writer import safe

MAX_SKIPS_SHOWN = 10
#: Exit code of a hunt that read zero records (docs/output-formats.md): nothing was searched.
EXIT_NO_RECORDS = 3


def rulesets_info(rules: Sequence[CompiledRule]) -> list[dict[str, Any]]:
    """Per ruleset: name, rule count, files, and SHA-256 over (file name, bytes) of its rule files, sorted."""
    files: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for r in rules:
        files[r.ruleset or "custom"].add(r.path)
        counts[r.ruleset or "custom"] += 1
    out = []
    for name in sorted(files):
        digest = hashlib.sha256()
        for path in sorted(files[name]):
            digest.update(Path(path).name.encode() + b"\0")
            try:
                digest.update(Path(path).read_bytes())
            except OSError:
                digest.update(b"<unreadable>")
            digest.update(b"\0")
        out.append({"name": name, "rules": counts[name], "files": len(files[name]), "sha256": digest.hexdigest()})
    return out


def summary_dict(
    stats: RunStats,
    extra: dict[str, Any] | None = None,
    *,
    rules: Sequence[CompiledRule] = (),
    inputs: Sequence[str] = (),
    time_anchor: dict[str, Any] | None = None,
    selection: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``summary`` object of the JSON document (and the last NDJSON line)."""
    doc: dict[str, Any] = {
        "version": __version__,
        "tool": {"name": "iisdetect", "version": __version__},
        "rulesets": rulesets_info(rules),
        "rule_selection": selection or {"min_level": None, "statuses": [], "tags": [], "rule_ids": []},
        "inputs": list(inputs),
        "time": time_anchor or {"since": None, "until": None, "last": None, "now": None, "anchor": None},
        "records_seen": stats.records_seen,
        "no_records": stats.records_read == 0,
        "alerts": sum(stats.alerts_by_type.values()),
        "notes": list(notes),
    }
    doc.update(stats.to_dict())
    if extra:
        doc.update(extra)
    return doc


def _not_decoded(stats: RunStats) -> str:
    """``; of those read: N decoded, N routed away, N prefiltered`` when a hunt skipped any."""
    if not (stats.routed_away or stats.prefiltered):
        return ""
    return (
        f"; of those read: {stats.records_decoded} decoded, {stats.routed_away} routed away (EventID/channel "
        f"no rule takes), {stats.prefiltered} prefiltered (no rule literal)"
    )


def files_line(stats: RunStats) -> str:
    """``files: 10 read (ecs 1, xml 9), 8 ignored (not event data); 10 of these 18 came from 1 container``.

    Why this shape: each number adds up to the one it qualifies (the formats to the files read; the
    files inside containers are a share of those read or ignored), so a folder of 3 logs and an
    archive of 15 members does not read as "18 files" of which 10 were read. Unreadable files are
    problems, not a share: one cut short mid-file was also read.
    """
    fmts = ", ".join(f"{k} {v}" for k, v in sorted(stats.formats.items()))
    parts = [f"{stats.files} read" + (f" ({fmts})" if fmts else "")]
    if stats.files_ignored:
        parts.append(f"{stats.files_ignored} ignored (not event data)")
    line = "files: " + ", ".join(parts)
    if stats.files_in_containers:
        met = stats.files + stats.files_ignored
        box = "container" if stats.containers == 1 else "containers"
        line += f"; {stats.files_in_containers} of these {met} came from {stats.containers} {box}"
    if stats.files_failed:
        line += f"; {stats.files_failed} unreadable"
    return line


def print_summary(stats: RunStats, console: Console, notes: Sequence[str] = (), alerts: int = 0) -> None:
    """Human summary on stderr; a damaged record is always listed with file and location."""
    print_accounting(stats, console)
    _print_rest(stats, console, notes, alerts)


def print_accounting(stats: RunStats, console: Console, more: str = "see --format json summary") -> None:
    """What was read: files, records (seen = read + skipped), and each skip with file and location
    (the first ``MAX_SKIPS_SHOWN``; ``more`` says where the rest are)."""
    console.print(Text(files_line(stats)))
    console.print(
        Text(
            f"records: {stats.records_seen} seen, {stats.records_read} read, {stats.records_skipped} skipped"
            + _not_decoded(stats)
            + (f", {stats.filtered_by_time} outside the time window" if stats.filtered_by_time else "")
            + (f", {stats.untimed} without a readable time (kept)" if stats.untimed else "")
        )
    )
    for reason, count in sorted(stats.skipped_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(Text(f"  skipped {count}: {safe(reason)}"))
    for skip in stats.skips[:MAX_SKIPS_SHOWN]:
        console.print(
            Text(f"    {safe(skip.source)} @ {safe(skip.locator)}: {safe(skip.reason)} {safe(skip.detail)}"[:300])
        )
    if len(stats.skips) > MAX_SKIPS_SHOWN:
        console.print(Text(f"    ... {len(stats.skips) - MAX_SKIPS_SHOWN} more ({more})"))


def _print_rest(stats: RunStats, console: Console, notes: Sequence[str], alerts: int) -> None:
    if stats.duplicate_events:
        console.print(Text(f"duplicates: {stats.duplicate_events} event(s) read again from another file, counted once"))
        for d in stats.duplicates[:MAX_SKIPS_SHOWN]:
            console.print(
                Text(f"    {safe(d.source)} @ {safe(d.locator)}: {safe(d.computer)} {safe(d.channel)} #{d.record_id}")
            )
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(stats.alerts_by_type.items())) or "none"
    console.print(Text(f"alerts: {alerts} ({by_type})"))
    if stats.suppressed_by_entry:
        sup = ", ".join(f"{k} {v}" for k, v in sorted(stats.suppressed_by_entry.items()))
        console.print(Text(f"suppressed by tuning: {sum(stats.suppressed_by_entry.values())} ({sup})"))
    for w in stats.warnings:
        console.print(Text(f"warning: {safe(w)}", style="yellow"))
    for n in notes:
        console.print(Text(f"note: {safe(n)}", style="dim"))
    if stats.records_read == 0:
        console.print(Text(f"no records read: nothing was searched (exit code {EXIT_NO_RECORDS})", style="bold yellow"))
