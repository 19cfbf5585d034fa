"""``export --target sentinel``: KQL from the IR, parsed and semantically analysed by Kusto.Language
against the declared SecurityEvent/WindowsEvent schemas; rule files parsed back."""

from __future__ import annotations

import json

import pytest
import yaml

from iisdetect.engine import ir
from iisdetect.exporters.kql import KqlRenderer
from iisdetect.exporters.sentinel import export_arm, export_yaml
from iisdetect.mapping.targets import load_target_mapping
from tests.exporters.common import TUNINGS, rules
from tests.exporters.kusto_check import kusto_errors

M = load_target_mapping("sentinel")
SCHEMAS = {k: " ".join(v.split()) for k, v in M.raw["schemas"].items()}
SYSMON = ir.Source("sysmon_1", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (1,))
SECURITY = ir.Source("security_4688", ("Security",), ("Microsoft-Windows-Security-Auditing",), (4688,))


@pytest.mark.parametrize(
    ("node", "src", "kql"),
    [
        (ir.Str("Image", "eq", r"C:\A.exe"), SYSMON, r'tostring(EventData["Image"]) =~ @"C:\A.exe"'),
        (ir.Str("Image", "endswith", 'a"b', cased=True), SYSMON, 'tostring(EventData["Image"]) endswith_cs @"a""b"'),
        (ir.Str("NewProcessName", "contains", "x"), SECURITY, 'NewProcessName contains @"x"'),
        (ir.Glob("Computer", ("WEB0", ir.ONE, ".corp")), SYSMON, r'Computer matches regex @"(?is)^WEB0.\.corp$"'),
        (ir.Num("EventID", 29), SYSMON, "EventID == 29"),
        (ir.Null("Details"), SYSMON, 'isempty(tostring(EventData["Details"]))'),
        (ir.Not(ir.Regex("NewValue", r"^[^\\]*$")), SYSMON,
         r'not ((isnotnull(EventData["NewValue"]) and tostring(EventData["NewValue"]) matches regex @"^[^\\]*$"))'),
        (ir.Not(ir.Str("CommandLine", "contains", "x")), SECURITY,
         'not ((isnotempty(CommandLine) and CommandLine contains @"x"))'),
        (ir.TimeWindow("TimeCreated", None, "2024-01-01T00:00:00", (5, 6), 0, 120), SYSMON,
         "(TimeGenerated < datetime(2024-01-01T00:00:00Z) and toint(dayofweek(TimeGenerated) / 1d) in (6, 0)"
         " and (TimeGenerated - startofday(TimeGenerated)) < 120m)"),
        (ir.Str("Hashes", "contains", "SHA256=AB"), SECURITY, "false"),  # no such column in SecurityEvent
    ],
)  # fmt: skip
def test_leaf_rendering(node: ir.Node, src: ir.Source, kql: str) -> None:
    assert KqlRenderer(M).condition(node, src) == kql


def test_kusto_language_flags_what_it_should() -> None:
    """Negative controls: the checker does reject unknown columns and broken syntax."""
    errs = kusto_errors(SCHEMAS, ["SecurityEvent | where Signed == 'x'", "WindowsEvent | where EventID == 1 and",
                                  "WindowsEvent | where EventID == 1"])  # fmt: skip
    assert [e[0]["code"] for e in errs[:2]] == ["KS142", "KS006"]
    assert errs[2] == []


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_every_query_parses_and_binds_against_the_schemas(tuning: str) -> None:
    r = KqlRenderer(M)
    queries = {rule.id: r.rule(rule) for rule in rules(tuning)}
    assert all(queries.values())
    errs = kusto_errors(SCHEMAS, list(queries.values()))
    bad = {rid: e for rid, e in zip(queries, errs, strict=True) if e}
    assert bad == {}
    if tuning == "windows":
        assert any("dayofweek(TimeGenerated)" in q for q in queries.values())


def test_rule_files_parse_and_carry_the_rule_metadata() -> None:
    rs = list(rules("example"))
    docs = list(yaml.safe_load_all(export_yaml(rs)))
    assert [d["id"] for d in docs] == [r.id for r in rs]
    for d, r in zip(docs, rs, strict=True):
        assert d["kind"] == "Scheduled" and d["name"] == r.title and "Persistence" in d["tactics"]
        assert "T1505.004" in d["relevantTechniques"]
        assert f'DetectionType = "{r.detection_type}"' in d["query"]
    security = next(d for d in docs if "SecurityEvent" in d["query"])
    assert {"connectorId": "SecurityEvents", "dataTypes": ["SecurityEvent"]} in security["requiredDataConnectors"]
    arm = json.loads(export_arm(rs))
    props = [res["properties"] for res in arm["resources"]]
    assert [p["displayName"] for p in props] == [r.title for r in rs]
    assert all("T1505" in p["techniques"] and "T1505.004" in p["subTechniques"] for p in props)
    assert props[0]["queryFrequency"] == "PT1H"
    errs = kusto_errors(SCHEMAS, [p["query"] for p in props])
    assert all(e == [] for e in errs)
