"""Scenario simulator: realistic T1505.004 attack and benign telemetry with hand-written ground truth.

Public API (used by ``iisdetect simulate`` / ``validate``, the tests and ``bench/gen_background.py``):

- :func:`load_scenarios` reads the bundled (or user) scenario YAML files, validated;
- :func:`scenario_stream` yields one scenario's events merged, in time order, with a benign
  background of a busy IIS host (streamed, flat memory);
- :func:`iisdetect.simulate.writers.write` writes them as evtx-json, xml, ecs or ndjson.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from iisdetect.simulate.background import RATE, background
from iisdetect.simulate.build import scenario_events
from iisdetect.simulate.model import SimEvent
from iisdetect.simulate.schema import Scenario, ScenarioError, load_file

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "data" / "scenarios"

__all__ = ["SCENARIO_DIR", "Scenario", "ScenarioError", "load_scenarios", "scenario_stream"]


def load_scenarios(names: Sequence[str] = (), directory: Path | None = None) -> list[Scenario]:
    """Load the named scenarios (all when ``names`` is empty), sorted by id; unknown names fail."""
    directory = directory or SCENARIO_DIR
    files = {p.stem: p for p in sorted(directory.glob("*.yaml"))}
    if not files:
        raise ScenarioError(f"{directory}: no scenario files (*.yaml)")
    unknown = [n for n in names if n not in files]
    if unknown:
        raise ScenarioError(f"unknown scenario(s) {unknown}; available: {sorted(files)}")
    return [load_file(files[n]) for n in (sorted(set(names)) if names else sorted(files))]


def scenario_stream(scn: Scenario, seed: int = 1, background_events: int = 0) -> Iterator[SimEvent]:
    """The scenario's events with ``background_events`` benign records around them, in time order.

    The background starts early enough that about half of it precedes the first attack step.
    """
    events = scenario_events(scn, seed)
    if background_events <= 0:
        yield from events
        return
    lead = timedelta(seconds=background_events / RATE / 2)
    bg = background(scn.host, scn.start - lead, background_events, seed)
    yield from heapq.merge(events, bg, key=lambda e: e.event.time_created)
