"""Helpers for reader tests: run ``iter_events`` and keep the stats."""

from __future__ import annotations

from pathlib import Path

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "readers"
SHAPES = FIXTURES / "shapes"


def read_all(*paths: str | Path) -> tuple[list[Event], RunStats]:
    stats = RunStats()
    events = list(iter_events([str(p) for p in paths], stats))
    return events, stats
