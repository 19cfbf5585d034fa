"""``export --target qradar``: AQL generated from the rule IR, checked by running it in the emulator."""

from __future__ import annotations

from functools import cache

import pytest

from iisdetect.engine import ir
from iisdetect.engine.ruleset import load_ruleset, ruleset_paths
from iisdetect.exporters.qradar import Renderer, aql_string, export_rules
from tests.aql.seedcompare import aql_rows, as_counter, native_rows
from tests.aql.test_seed_query import branch_events
from tests.helpers import SECURITY, ev, file_create, image_load, registry_set

R = Renderer()
SRC = ir.Source("sysmon", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), ())


def rule(cond: ir.Node, dtype: str = "T", rid: str = "r1") -> ir.CompiledRule:
    return ir.CompiledRule(rid, rid, "high", dtype, "", "", (), (), (ir.Variant(SRC, cond),))


@pytest.mark.parametrize(
    ("node", "aql"),
    [
        (ir.Str("Image", "endswith", r"\w3wp.exe"), "\"Process Path\" ILIKE '%\\w3wp.exe'"),
        (ir.Str("Image", "eq", "a", cased=True), "\"Process Path\" LIKE 'a'"),
        (ir.Str("CommandLine", "startswith", "it's"), "Command ILIKE 'it''s%'"),
        (ir.Str("ImageLoaded", "contains", r"\Temp\\"), "\"File Path\" ILIKE '%\\Temp\\\\%'"),
        (ir.Str("CommandLine", "contains", "100%"), "Command IMATCHES '(?s)^.*100%.*\\z'"),
        (ir.Str("TargetFilename", "endswith", "a_b.dll"), "Filename IMATCHES '(?s)^.*a_b\\.dll\\z'"),
        (ir.Str("CommandLine", "eq", "a_b"), "Command IMATCHES '(?s)^a_b\\z'"),
        (ir.Str("AccessMask", "eq", "0x2"), "\"Access Mask\" ILIKE '0x2'"),
        (ir.Glob("Details", ("C:", ir.STAR, ".dll", ir.ONE)), "Details ILIKE 'C:%.dll_'"),
        (ir.Regex("CommandLine", "-enc\\s", True), "Command IMATCHES '(?s:.*)(?:-enc\\s)(?s:.*)'"),
        (ir.Num("EventID", 7), "\"Event ID\" = '7'"),
        (ir.Null("Details"), "Details IS NULL"),  # Sigma null: absent, not empty
        (ir.Cidr("SourceIp", "10.0.0.0/8"), "INCIDR('10.0.0.0/8', SourceIp)"),
        (
            ir.Not(ir.Str("Image", "contains", "setup.exe")),
            'NOT (("Process Path" IS NOT NULL AND "Process Path" ILIKE \'%setup.exe%\'))',
        ),
    ],
)
def test_leaf_rendering(node: ir.Node, aql: str) -> None:
    assert R.condition(node) == aql


def test_aql_string_doubles_quotes_and_keeps_backslashes() -> None:
    assert aql_string("O'Brien\\x") == "'O''Brien\\x'"


def test_imageloaded_is_a_real_property_not_a_string_literal() -> None:
    q = export_rules(load_ruleset("seed"))
    assert "'file directory'" not in q.lower() and "CONCAT" not in q
    assert "\"File Path\" ILIKE '%\\Users\\%'" in q  # single backslashes: literal in AQL


def test_detection_type_case_is_generated_from_the_rules() -> None:
    rules = load_ruleset("seed")
    q = export_rules(rules)
    for r in rules:
        assert f"THEN '{r.detection_type}'" in q
    assert q.count("WHEN ") == len(rules)
    assert "logsourcetypeid" not in q and "WHERE devicetype = 12" in q


def test_wildcards_in_values_roundtrip(run=None) -> None:
    rules = [rule(ir.And((ir.Num("EventID", 1), ir.Str("CommandLine", "contains", "50%_off"))))]
    hit = ev(1, {"Image": "a.exe", "CommandLine": "x 50%_off y"})
    miss = ev(1, {"Image": "a.exe", "CommandLine": "x 50abcoff y"})  # LIKE would have matched this
    rows = aql_rows([hit, miss], export_rules(rules))
    assert [r["CommandLine"] for r in rows] == ["x 50%_off y"]


def test_not_on_missing_field_matches_as_natively() -> None:
    rules = [rule(ir.And((ir.Num("EventID", 11), ir.Not(ir.Str("Image", "contains", "msiexec")))))]
    no_image = ev(11, {"TargetFilename": r"C:\inetpub\a.dll"})
    assert len(native_rows(rules, [no_image])) == 1
    assert len(aql_rows([no_image], export_rules(rules))) == 1


def _roundtrip(rules, events) -> None:
    native = native_rows(rules, events)
    got = aql_rows(events, export_rules(rules))
    assert as_counter(got) == as_counter(native)
    return native


def test_roundtrip_seed_branch_events() -> None:
    native = _roundtrip(load_ruleset("seed"), branch_events())
    assert len(native) == 9


def _scenario_events():
    from iisdetect.simulate import load_scenarios, scenario_stream

    for scn in load_scenarios():
        yield scn.id, [s.event for s in scenario_stream(scn, seed=5, background_events=1500)]


@cache
def _all_scenario_events() -> tuple:
    """Every scenario's events in one list: one emulator load and one run of the (450 KB) exported
    query instead of one per scenario (the rows compared are per event either way)."""
    return tuple(e for _, events in _scenario_events() for e in events)


def test_roundtrip_seed_scenarios() -> None:
    _roundtrip(load_ruleset("seed"), _all_scenario_events())


def _default_rules():
    try:
        ruleset_paths("iis")
    except Exception as exc:  # the default ruleset lands separately
        pytest.skip(f"default ruleset not available: {exc}")
    return load_ruleset("iis")


def test_roundtrip_default_ruleset_scenarios() -> None:
    assert len(_roundtrip(_default_rules(), _all_scenario_events())) > 0


def test_roundtrip_default_ruleset_hand_events() -> None:
    rules = _default_rules()
    events = [
        *branch_events(),
        image_load(r"C:\inetpub\wwwroot\bin\x.dll", Signed="false"),
        file_create(r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\r\a.dll", "w3wp.exe"),
        registry_set(r"HKLM\SOFTWARE\Microsoft\InetStp\GlobalModules\evil", r"C:\x\e.dll"),
        ev(4663, {"ObjectName": r"C:\Windows\System32\inetsrv\x.dll", "ProcessName": "a.exe", "AccessMask": "0x2"},
           log=SECURITY),
    ]  # fmt: skip
    _roundtrip(rules, events)


def _tuned_default_rules():
    _default_rules()
    from pathlib import Path

    from iisdetect.tuning.entries import load_tuning

    path = Path(__file__).resolve().parents[2] / "examples" / "tuning.example.yaml"
    if not path.is_file():
        pytest.skip("examples/tuning.example.yaml not available")
    return load_ruleset("iis", tuning=load_tuning(path))


def test_roundtrip_default_ruleset_with_tuning() -> None:
    rules = _tuned_default_rules()
    q = export_rules(rules)
    assert "DATEFORMAT(starttime, 'EEE') IN ('Sat')" in q  # maintenance windows, natively
    assert "starttime >= 1796500800000 AND starttime < 1796529600000" in q  # 2026-12-05T20:00Z .. 12-06T04:00Z
    assert len(_roundtrip(rules, _all_scenario_events())) > 0


def test_tuning_maintenance_window_suppresses_in_aql_too() -> None:
    """A DLL write by the deployment account inside the Saturday window is dropped by both engines."""
    rules = _tuned_default_rules()
    data = dict(file_create(r"C:\inetpub\wwwroot\bin\x.dll", r"C:\Tools\deploy.exe").data, User="CORP\\svc_webdeploy")
    inside = ev(11, data, time="2024-05-04T23:30:00.000000Z")  # a Saturday, 22:00-02:00 UTC
    outside = ev(11, data, time="2024-05-08T23:30:00.000000Z")  # a Wednesday
    native = _roundtrip(rules, [inside, outside])
    assert [r["event_time"] for r in native] == ["2024-05-08 23:30:00"]


@pytest.mark.parametrize("ruleset", ["seed", "iis"])
def test_roundtrip_bundled_examples(ruleset: str) -> None:
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events
    from tests.aql.test_seed_query import _example_logs

    paths = _example_logs()
    if not paths:
        pytest.skip("no example logs bundled in examples/ yet")
    rules = load_ruleset(ruleset) if ruleset == "seed" else _default_rules()
    events = list(iter_events(paths, RunStats()))
    assert len(_roundtrip(rules, events)) > 0


def test_each_condition_is_written_once() -> None:
    """The CASE holds every rule's condition; the WHERE only asks that detection_type is not NULL."""
    rules = _default_rules()
    q = export_rules(rules)
    r = Renderer()
    for rule in rules:
        assert q.count(r.rule(rule)) == 1, rule.id
    assert "AND detection_type IS NOT NULL" in q and q.count("WHEN ") == len(rules)


def test_split_writes_one_query_per_rule_each_agreeing_with_its_rule() -> None:
    from iisdetect.exporters.qradar import export_rule

    rules = load_ruleset("seed")
    events = branch_events()
    for rule in rules:
        q = export_rule(rule)
        assert "CASE" not in q and f"'{rule.detection_type}' AS detection_type" in q
        got = aql_rows(events, q)
        assert as_counter(got) == as_counter(native_rows([rule], events)), rule.id


@pytest.mark.parametrize("payload", ["xml", "json"])
def test_channel_tests_work_without_wincollect_payloads(payload: str) -> None:
    """The same export finds the same rows when the payload is the event XML or JSON, not WinCollect's."""
    from dataclasses import replace

    from iisdetect.mapping.qradar import load_mapping

    mapping = replace(load_mapping(), emulator_payload=payload)
    rules = _default_rules()
    events = [*branch_events(), *next(_scenario_events())[1]]
    native = native_rows(rules, events)
    got = aql_rows(events, export_rules(rules), mapping=mapping)
    assert native and as_counter(got) == as_counter(native)


def test_property_definitions_list_what_the_query_names() -> None:
    import re

    from iisdetect.exporters.qradar_properties import definitions
    from iisdetect.mapping.qradar import load_mapping

    r = Renderer()
    export_rules(_default_rules(), renderer=r)
    doc = definitions(r.used, load_mapping())
    names = {p["name"]: p for p in doc["regex_properties"]}
    assert {"Access Mask", "File Path", "Process Path", "Event ID"} <= set(names)
    assert names["Access Mask"]["ibm_property"] and names["Access Mask"]["windows_fields"] == ["AccessMask"]
    assert "username" not in names and "sourceip" not in names  # QRadar's own columns need none
    expr = next(e for e in doc["property_expressions"] if e["regex_property_name"] == "File Path")
    assert expr["log_source_type_id"] == 12 and expr["capture_group"] == 1
    # the regex reads the value from a WinCollect payload and from a rendered message
    wincollect = "AgentLogFile=Microsoft-Windows-Sysmon/Operational\tImage=C:\\w3wp.exe\tImageLoaded=C:\\Temp\\x.dll\t"
    rendered = "Message=Image loaded: ... Image: C:\\w3wp.exe ImageLoaded: C:\\Temp\\x.dll"
    assert re.search(expr["regex"], wincollect).group(1) == "C:\\Temp\\x.dll"
    assert re.search(expr["regex"], rendered).group(1) == "C:\\Temp\\x.dll"
