"""Shared by the export tests: scenario events, the rules untuned/tuned, and hunt's matches per rule."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ir import CompiledRule
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.model.event import Event
from iisdetect.tuning.entries import load_tuning

ROOT = Path(__file__).resolve().parents[2]
TUNINGS = {
    "untuned": None,
    "example": ROOT / "examples" / "tuning.example.yaml",
    "windows": Path(__file__).parent / "fixtures" / "tuning_windows.yaml",
}


@cache
def scenario_events() -> tuple[Event, ...]:
    """Every bundled scenario with benign background (seed 5), as hunt reads them."""
    from iisdetect.simulate import load_scenarios, scenario_stream

    out: list[Event] = []
    for scn in load_scenarios():
        out.extend(s.event for s in scenario_stream(scn, seed=5, background_events=100))
    return tuple(out)


@cache
def rules(tuning: str) -> tuple[CompiledRule, ...]:
    path = TUNINGS[tuning]
    tun = load_tuning(path) if path else None
    return tuple(load_ruleset("seed", tuning=tun) + load_ruleset("iis", tuning=tun))


def hunt_matches(rule_set: Sequence[CompiledRule], events: Sequence[Event]) -> dict[str, set[int]]:
    """rule id -> indexes of the events hunt's engine matches (the ground truth)."""
    out: dict[str, set[int]] = {r.id: set() for r in rule_set}
    det = Detector(rule_set)
    for i, e in enumerate(events):
        for r in det.match(e):
            out[r.id].add(i)
    return out


def need_tool(name: str) -> str:
    """Path of a system tool; skip without it locally, fail under CI=true (PREAMBLE rule)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true (installed by .ci/run)")
    pytest.skip(f"{name} not installed")
    raise AssertionError  # unreachable
