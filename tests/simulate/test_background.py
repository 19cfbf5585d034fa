"""The background streams: time-ordered, benign, realistic templates, and flat memory."""

from __future__ import annotations

import io
import tracemalloc
from collections import Counter
from datetime import UTC, datetime

from iisdetect.simulate.background import background
from iisdetect.simulate.writers import write

START = datetime(2024, 5, 1, tzinfo=UTC)


def test_background_is_ordered_benign_and_varied() -> None:
    events = list(background("WEB01.corp.local", START, 3000, 5))
    assert len(events) == 3000
    times = [e.event.time_created for e in events]
    assert times == sorted(times)
    assert not any(e.truth.malicious for e in events)
    kinds = Counter(e.truth.template for e in events)
    assert {"worker_start", "w3wp_module_load", "defender_load"} <= set(kinds)
    loads = [e.event for e in events if e.event.event_id == 7]
    assert all(e.data["Image"].endswith("\\w3wp.exe") for e in loads)
    starts = [e.event for e in events if e.event.event_id == 1]
    assert all(' -ap "' in e.data["CommandLine"] and e.data["ParentImage"].endswith("svchost.exe") for e in starts)


def _peak(count: int) -> int:
    class Sink(io.RawIOBase):
        def write(self, b: bytes) -> int:  # type: ignore[override]
            return len(b)

    tracemalloc.start()
    try:
        n = write(background("WEB01.corp.local", START, count, 1), "ndjson", Sink())
        assert n == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_while_streaming() -> None:
    small = _peak(20_000)
    large = _peak(200_000)
    assert large < 16 * 1024 * 1024  # write buffer (4096 lines) + caches; no per-event growth
    assert large < small * 1.5 + 512 * 1024  # ten times the events, about the same peak
