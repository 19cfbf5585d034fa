"""``export --target elastic-eql``: the EQL each rule gets, run by the ``eql`` package's Python engine
over ECS-shaped scenario events (tests/exporters/ecs_shape.py); matches must equal hunt's per rule.

The engine's semantics are Endgame's, not Elasticsearch's: ``==`` is case-insensitive, regexes are
Python ``re``; what it proves and does not is in docs/export-elastic.md.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

import pytest

from iisdetect.engine import ir
from iisdetect.exporters.elastic_eql import EqlRenderer, export_ndjson
from iisdetect.exporters.lucene_regex import Untranslatable, to_lucene
from iisdetect.mapping.targets import load_target_mapping
from tests.exporters.common import TUNINGS, hunt_matches, rules, scenario_events
from tests.exporters.ecs_shape import ecs_doc

eql = pytest.importorskip("eql")
M = load_target_mapping("elastic")
SYSMON7 = ir.Source("sysmon_7", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (7,))


def run_eql(query: str, docs: list[dict]) -> set[int]:
    from eql.events import Event as EqlEvent

    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
        ast = eql.parse_query(query)
    engine = eql.PythonEngine()
    engine.add_query(ast)
    out: set[int] = set()
    engine.add_output_hook(lambda res: out.add(res.events[0].data["_i"]))
    engine.stream_events([EqlEvent("any", 0, {**d, "_i": i}) for i, d in enumerate(docs)])
    return out


@cache
def _docs() -> list[dict]:
    return [ecs_doc(e, M) for e in scenario_events()]


def _untranslatable(node: ir.Node) -> bool:
    if not isinstance(node, ir.Regex):
        return False
    try:
        to_lucene(node.pattern)
    except Untranslatable:
        return True
    return False


def _without_windows(node: ir.Node) -> ir.Node:
    """What EQL can express: every maintenance window, and every regex with no Lucene form, false
    (both reported by the export on stderr: test_degradations_are_reported)."""
    if isinstance(node, ir.And | ir.Or):
        return type(node)(tuple(_without_windows(i) for i in node.items))
    if isinstance(node, ir.Not):
        return ir.Not(_without_windows(node.item))
    return ir.Const(False) if isinstance(node, ir.TimeWindow) or _untranslatable(node) else node


@pytest.mark.parametrize(
    ("node", "eql_text"),
    [
        (ir.Str("ImageLoaded", "eq", r"C:\a.dll"), r'file.path in~ ("C:\\a.dll")'),
        (ir.Str("Image", "endswith", r"\w3wp.exe"), r'endsWith~(process.executable, "\\w3wp.exe")'),
        (ir.Str("Image", "startswith", "C:", cased=True), 'startsWith(process.executable, "C:")'),
        (ir.Str("Signed", "eq", "false"), 'winlog.event_data.Signed in~ ("false")'),
        (ir.Glob("ImageLoaded", ("C:", ir.STAR, "a_b", ir.ONE, "@x")), r'file.path regex~ "C:.*a_b.\\@x"'),
        (ir.Regex("CommandLine", r"(?:^|[^a-z])add\s+module\b", True), 'winlog.event_data.CommandLine regex~ '
         '"(.*[^a-z])?add[ \\t\\n\\r\x0c\x0b]+module([^A-Za-z0-9_].*)?"'),
        (ir.Str("Hashes", "contains", "SHA256=AB12"), 'file.hash.sha256 in~ ("ab12")'),
        (ir.Str("User", "eq", r"CORP\bob"), r'concat(user.domain, "\\", user.name) in~ ("CORP\\bob")'),
        (ir.Not(ir.Str("Image", "contains", "x")),
         'not ((process.executable != null and stringContains~(process.executable, "x")))'),
        (ir.Num("EventID", 7), 'event.code == "7"'),
        (ir.TimeWindow("TimeCreated", "2024-01-01T00:00:00"), "false"),
    ],
)  # fmt: skip
def test_leaf_rendering(node: ir.Node, eql_text: str) -> None:
    assert EqlRenderer(M).condition(node, SYSMON7) == eql_text


def test_the_engine_needs_the_guard() -> None:
    """Negative control: without the != null guard, NOT over a missing field drops the event."""
    docs = [{"process": {"executable": "a.exe"}}, {}]
    assert run_eql('any where not (process.executable in~ ("b"))', docs) == {0}
    assert run_eql('any where not ((process.executable != null and process.executable in~ ("b")))', docs) == {0, 1}


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_every_rule_matches_what_hunt_matches(tuning: str) -> None:
    events = scenario_events()
    rs = rules(tuning)
    expressible = [
        replace(r, variants=tuple(ir.Variant(v.source, _without_windows(v.condition)) for v in r.variants)) for r in rs
    ]
    truth = hunt_matches(expressible, events)
    r = EqlRenderer(M)
    for rule in rs:
        query, index = r.rule(rule)
        assert index and "winlogbeat-*" in index
        assert run_eql(query, _docs()) == truth[rule.id], rule.id
    assert sum(map(len, truth.values())) > 150
    notes = "\n".join(r.report.lines())
    if tuning == "windows":
        assert "EQL has no date functions" in notes
        # the windows really matter on this data: hunt suppresses more than EQL can
        assert sum(map(len, hunt_matches(rs, events).values())) < sum(map(len, truth.values()))


def test_ndjson_is_one_kibana_rule_per_line() -> None:
    rs = list(rules("example"))
    lines = export_ndjson(rs).splitlines()
    assert len(lines) == len(rs)
    for line, rule in zip(lines, rs, strict=True):
        body = json.loads(line)
        assert body["rule_id"] == rule.id and body["type"] == "eql" and body["language"] == "eql"
        assert body["severity"] in ("low", "medium", "high", "critical") and 0 < body["risk_score"] <= 100
        tactic = body["threat"][0]
        assert tactic["framework"] == "MITRE ATT&CK" and tactic["tactic"]["id"].startswith("TA")
        assert any(s["id"] == "T1505.004" for t in tactic["technique"] for s in t.get("subtechnique", []))
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
            eql.parse_query(body["query"])


def test_degradations_are_reported() -> None:
    """Every rule whose regex has no Lucene form is named on stderr, so no loss is silent."""
    r = EqlRenderer(M)
    lossy = set()
    for rule in rules("untuned"):
        r.rule(rule)
        if any(_untranslatable(n) for v in rule.variants for n in _leaves(v.condition)):
            lossy.add(rule.id)
    notes = "\n".join(r.report.lines())
    assert all(f"{rid}: regex on" in notes for rid in lossy)


def _leaves(node: ir.Node) -> list[ir.Node]:
    if isinstance(node, ir.And | ir.Or):
        return [x for i in node.items for x in _leaves(i)]
    if isinstance(node, ir.Not):
        return _leaves(node.item)
    return [node]
