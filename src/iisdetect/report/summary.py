"""The accounting every run ends with: files, records read, skipped by reason, alerts by type."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from iisdetect import __version__
from iisdetect.model.stats import RunStats
from iisdetect.report.hunt_output import safe

MAX_SKIPS_SHOWN = 10


def summary_dict(stats: RunStats, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's accounting for JSON outputs; it names the tool version that produced it."""
    doc = {"version": __version__, **stats.to_dict()}
    if extra:
        doc.update(extra)
    return doc


def print_summary(stats: RunStats, console: Console, notes: list[str] = (), alerts: int = 0) -> None:
    """Human summary on stderr; a damaged record is always listed with file and location."""
    fmts = ", ".join(f"{k} {v}" for k, v in sorted(stats.formats.items())) or "none"
    console.print(
        Text(f"files: {stats.files} ({fmts})" + (f", {stats.files_failed} unreadable" if stats.files_failed else ""))
    )
    console.print(
        Text(
            f"records: {stats.records_seen} seen, {stats.records_read} read, {stats.records_skipped} skipped"
            + (f", {stats.filtered_by_time} outside the time window" if stats.filtered_by_time else "")
        )
    )
    for reason, count in sorted(stats.skipped_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(Text(f"  skipped {count}: {safe(reason)}"))
    for skip in stats.skips[:MAX_SKIPS_SHOWN]:
        console.print(
            Text(f"    {safe(skip.source)} @ {safe(skip.locator)}: {safe(skip.reason)} {safe(skip.detail)}"[:300])
        )
    if len(stats.skips) > MAX_SKIPS_SHOWN:
        console.print(Text(f"    ... {len(stats.skips) - MAX_SKIPS_SHOWN} more (see --format json summary)"))
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(stats.alerts_by_type.items())) or "none"
    console.print(Text(f"alerts: {alerts} ({by_type})"))
    if stats.suppressed_by_entry:
        sup = ", ".join(f"{k} {v}" for k, v in sorted(stats.suppressed_by_entry.items()))
        console.print(Text(f"suppressed by tuning: {sum(stats.suppressed_by_entry.values())} ({sup})"))
    for w in stats.warnings:
        console.print(Text(f"warning: {safe(w)}", style="yellow"))
    for n in notes:
        console.print(Text(f"note: {safe(n)}", style="dim"))
