"""Maintenance windows as ``ir.TimeWindow``: parsing, native evaluation, and hunt unchanged.

"Unchanged" is checked against the old representation: ``regex_form`` lowers every window back to
the date-expansion regexes the engine used before, and both must match the same events.
"""

from __future__ import annotations

import pytest

from iisdetect.engine import ir
from iisdetect.engine.evaluate import compile_node
from iisdetect.errors import UsageError
from iisdetect.tuning.entries import load_tuning
from iisdetect.tuning.windows import regex_form, windows_node
from tests.exporters.common import TUNINGS, hunt_matches, rules, scenario_events
from tests.helpers import ev


def _hit(node: ir.Node, time: str) -> bool:
    return compile_node(node)(ev(1, {"Image": "a.exe"}, time=time))


def test_absolute_window_is_half_open() -> None:
    node = windows_node({"from": "2024-05-08T01:00:00Z", "to": "2024-05-08T01:11:00Z"}, "w")
    assert node == ir.TimeWindow("TimeCreated", "2024-05-08T01:00:00", "2024-05-08T01:11:00")
    assert _hit(node, "2024-05-08T01:00:00.000000Z")
    assert _hit(node, "2024-05-08T01:10:59.999999Z")
    assert not _hit(node, "2024-05-08T01:11:00.000000Z")
    assert not _hit(node, "2024-05-08T00:59:59.999999Z")


def test_weekly_window_crossing_midnight_is_two_nodes() -> None:
    node = windows_node({"days": ["sat"], "start": "22:00", "end": "02:00"}, "w")
    late = ir.TimeWindow("TimeCreated", None, None, (5,), 1320, 1440)
    early = ir.TimeWindow("TimeCreated", None, None, (6,), 0, 120)
    assert node == ir.Or((late, early))
    assert _hit(node, "2024-05-04T23:30:00.000000Z")  # Saturday
    assert _hit(node, "2024-05-05T01:59:59.000000Z")  # Sunday morning
    assert not _hit(node, "2024-05-05T02:00:00.000000Z")
    assert not _hit(node, "2024-05-04T21:59:00.000000Z")
    assert not _hit(node, "2024-05-11T01:00:00.000000Z")  # a Saturday morning: not the window


def test_weekly_window_has_no_date_horizon_any_more() -> None:
    """The regex form only knew 2020..2039; the node computes the weekday for any date."""
    node = windows_node({"days": ["sat"], "start": "22:00", "end": "23:00"}, "w")
    assert _hit(node, "2045-01-07T22:30:00.000000Z")  # a Saturday
    assert not compile_node(regex_form(node))(ev(1, {}, time="2045-01-07T22:30:00.000000Z"))


def test_missing_or_garbled_time_is_never_inside_a_window() -> None:
    node = windows_node({"to": "2024-05-08T01:11:00Z"}, "w")
    assert not _hit(node, "")
    assert not _hit(node, "not a time")
    assert _hit(node, "2024-05-08T01:10:00Z")


def test_bad_windows_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="weekly window needs"):
        windows_node({"days": ["sat"]}, "w")
    with pytest.raises(UsageError, match="HH:MM"):
        windows_node({"days": ["sat"], "start": "25:00", "end": "01:00"}, "w")
    with pytest.raises(UsageError, match="after 'from'"):
        windows_node({"from": "2024-01-02", "to": "2024-01-01"}, "w")


def _lowered(rule: ir.CompiledRule) -> ir.CompiledRule:
    from dataclasses import replace

    return replace(rule, variants=tuple(ir.Variant(v.source, regex_form(v.condition)) for v in rule.variants))


@pytest.mark.parametrize("tuning", [t for t in TUNINGS if t != "untuned"])
def test_hunt_results_are_unchanged_by_the_window_node(tuning: str) -> None:
    """Native TimeWindow evaluation == the old regex lowering, rule by rule, over every scenario."""
    events = scenario_events()
    native = hunt_matches(rules(tuning), events)
    old = hunt_matches([_lowered(r) for r in rules(tuning)], events)
    assert native == old
    assert sum(map(len, native.values())) < sum(map(len, hunt_matches(rules("untuned"), events).values()))


def test_the_window_fixture_entries_really_suppress() -> None:
    """Each window entry of the fixture suppresses at least one scenario alert (else the tests prove little)."""
    tun = load_tuning(TUNINGS["windows"])
    fired: set[str] = set()
    untuned = rules("untuned")
    events = scenario_events()
    hits = hunt_matches(untuned, events)
    for r in untuned:
        for i in hits[r.id]:
            name = tun.suppressing_entry(r, events[i])
            if name:
                fired.add(name)
    assert fired == set(tun.names)
