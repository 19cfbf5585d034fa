"""``export --target splunk``: savedsearches.conf from the IR, checked by running the emitted SPL
(tests/exporters/spl_eval.py, an evaluator of the subset) over Splunk-shaped scenario events."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from iisdetect.engine import ir
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.exporters.splunk import SplunkRenderer, export_savedsearches
from iisdetect.mapping.targets import load_target_mapping
from iisdetect.model.event import Event
from tests.exporters.common import TUNINGS, hunt_matches, rules, scenario_events
from tests.exporters.spl_eval import SplQuery
from tests.helpers import ev

GOLDEN = Path(__file__).parent / "golden"
M = load_target_mapping("splunk")
SRC = ir.Source("sysmon_1", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (1,))


def splunk_event(e: Event) -> dict[str, Any]:
    """An event as the Splunk add-ons extract an XmlWinEventLog record (mapping/splunk.yaml)."""
    t = datetime.fromisoformat(e.time_created.replace("Z", "+00:00")).timestamp()
    return {
        "source": "XmlWinEventLog:" + e.channel, "sourcetype": "XmlWinEventLog", "EventCode": str(e.event_id),
        "Computer": e.computer, "SystemTime": e.time_created, "_time": t, "Channel": e.channel, "Name": e.provider,
        "EventRecordID": str(e.record_id), "UserID": e.user_sid, **e.data,
    }  # fmt: skip


def one(cond: ir.Node) -> ir.CompiledRule:
    return ir.CompiledRule("r1", "t", "high", "T", "", "", (), (), (ir.Variant(SRC, cond),))


@pytest.mark.parametrize(
    ("node", "spl"),
    [
        (ir.Str("Image", "eq", r"C:\A.exe"), r'lower(Image)=="c:\\a.exe"'),
        (ir.Str("Image", "eq", "A", cased=True), 'Image=="A"'),
        (ir.Str("Image", "endswith", r"\w3wp.exe"), r'match(Image, "(?i)\\\\w3wp\\.exe$")'),
        (ir.Str("CommandLine", "contains", 'say "hi"'), r'match(CommandLine, "(?i)say \"hi\"")'),
        (ir.Glob("Details", ("C:", ir.STAR, "_", ir.ONE)), r'match(Details, "(?is)^C:.*_.$")'),
        (ir.Regex("CommandLine", r"-enc\s", True), r'match(CommandLine, "(?i)-enc\\s")'),
        (ir.Num("EventID", 7), "tonumber(EventCode)==7"),
        (ir.Null("Details"), '(isnull(Details) OR Details=="")'),
        (ir.Not(ir.Str("Image", "contains", "x")), 'NOT ((isnotnull(Image) AND match(Image, "(?i)x")))'),
        (ir.TimeWindow("TimeCreated", "2024-05-08T01:00:00", None, (5,), 1320, 1440),
         "(_time>=1715130000 AND in((floor(_time/86400)+3)%7, 5) AND floor((_time%86400)/60)>=1320)"),
    ],
)  # fmt: skip
def test_leaf_rendering(node: ir.Node, spl: str) -> None:
    assert SplunkRenderer(M).condition(node, SRC) == spl


def test_not_over_a_missing_field_keeps_the_event_as_hunt_does() -> None:
    rule = one(ir.And((ir.Num("EventID", 1), ir.Not(ir.Str("ParentImage", "contains", "explorer")))))
    q = SplQuery(SplunkRenderer(M).rule(rule))
    no_parent = ev(1, {"Image": "a.exe"})
    assert hunt_matches([rule], [no_parent]) == {"r1": {0}}
    assert q.matches(splunk_event(no_parent))
    # the evaluator's three-valued logic is what makes the guard necessary: without it, NOT NULL drops it
    unguarded = SplQuery(q_text := SplunkRenderer(M).rule(rule).replace("(isnotnull(ParentImage) AND ", "("))
    assert "isnotnull" not in q_text and not unguarded.matches(splunk_event(no_parent))


def test_security_variants_are_kept_with_their_own_field_names() -> None:
    rule = next(r for r in load_ruleset("iis") if any(v.source.name == "security_4688" for v in r.variants))
    q = SplunkRenderer(M).rule(rule)
    assert 'source="XmlWinEventLog:Security" EventCode IN (4688)' in q
    assert "ParentProcessName" in q and "ParentImage" in q  # 4688's rename and Sysmon 1's name


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_every_rule_matches_what_hunt_matches(tuning: str) -> None:
    events = scenario_events()
    shaped = [splunk_event(e) for e in events]
    rs = rules(tuning)
    truth = hunt_matches(rs, events)
    r = SplunkRenderer(M)
    for rule in rs:
        q = SplQuery(r.rule(rule))
        got = {i for i, e in enumerate(shaped) if q.matches(e)}
        assert got == truth[rule.id], rule.id
    assert sum(map(len, truth.values())) > 150


def test_savedsearches_golden_seed() -> None:
    """The whole file for the seed ruleset, byte for byte (regenerate: see GOLDEN/README)."""
    text = export_savedsearches(load_ruleset("seed"))
    assert text == (GOLDEN / "splunk_seed.conf").read_text(encoding="utf-8")


def test_savedsearches_stanzas_parse_as_conf() -> None:
    text = export_savedsearches(list(rules("example")))
    stanzas = re.findall(r"^\[(.+)\]$", text, re.M)
    assert len(stanzas) == len(rules("example")) == len(set(stanzas))
    # every logical line is "key = value" (a search continues over lines with a trailing backslash)
    logical = re.sub(r"\\\n", " ", text)
    for line in logical.splitlines():
        assert not line or line.startswith(("#", "[")) or re.match(r"^[a-z][\w.]* = ", line), line
    assert "alert.severity = 3" in text and "enableSched = 1" in text


def test_windows_tuning_is_native_not_regex() -> None:
    text = export_savedsearches(list(rules("windows")))
    assert "SystemTime" not in text and "(floor(_time/86400)+3)%7" in text
