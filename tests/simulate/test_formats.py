"""Writers: every scenario in every format reads back (via the real readers) into equal Events;
output is deterministic per seed; hostile text stays data."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import defusedxml.ElementTree as ET
import orjson
import pytest

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from iisdetect.simulate import load_scenarios, scenario_stream
from iisdetect.simulate.model import SimEvent
from iisdetect.simulate.writers import FORMATS, write


@lru_cache(maxsize=2)
def all_events(seed: int, background_events: int) -> tuple[tuple[str, tuple[SimEvent, ...]], ...]:
    """Every scenario's events (with a small background), built once for the format tests."""
    return tuple((s.id, tuple(scenario_stream(s, seed, background_events))) for s in load_scenarios())


def _write(events: list[SimEvent], fmt: str) -> bytes:
    buf = io.BytesIO()
    write(iter(events), fmt, buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_scenario_reads_back_equal(fmt: str, tmp_path: Path) -> None:
    for scenario, events in all_events(1, 40):
        path = tmp_path / f"{scenario}.{FORMATS[fmt]}"
        path.write_bytes(_write(list(events), fmt))
        stats = RunStats()
        got = list(iter_events([str(path)], stats))
        assert stats.records_skipped == 0, (scenario, fmt, stats.skips[:3])
        want = [e.event for e in events]
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert a == b, (scenario, fmt, a, b)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_same_seed_same_bytes_other_seed_other_ids(fmt: str) -> None:
    (scn,) = load_scenarios(["rgdoor_native_module"])
    one = _write(list(scenario_stream(scn, 7, 300)), fmt)
    two = _write(list(scenario_stream(scn, 7, 300)), fmt)
    other = _write(list(scenario_stream(scn, 8, 300)), fmt)
    assert one == two
    assert one != other


def test_ids_consistent_across_a_scenario() -> None:
    (scn,) = load_scenarios(["rgdoor_native_module"])
    events = [e.event for e in scenario_stream(scn, 3)]
    starts = {e.data["ProcessId"]: e.data["ProcessGuid"] for e in events if e.event_id == 1}
    for e in events:
        if e.channel.endswith("Sysmon/Operational") and e.data["ProcessId"] in starts:
            assert e.data["ProcessGuid"] == starts[e.data["ProcessId"]]
    sec = [e for e in events if e.event_id == 4688]
    sysmon1 = {int(e.data["ProcessId"]) for e in events if e.event_id == 1}
    assert {int(e.data["NewProcessId"], 16) for e in sec} == sysmon1
    times = [e.time_created for e in events]
    assert times == sorted(times)
    for e in events:
        if e.event_id in (1, 7, 11, 13):
            assert e.data["ProcessGuid"].startswith("{") and e.data["ProcessGuid"].endswith("}")
        if e.event_id == 7:
            assert e.data["Hashes"].startswith("SHA1=") and ",SHA256=" in e.data["Hashes"]
            assert e.data["Signed"] in ("true", "false")


def _hostile() -> SimEvent:
    (scn,) = load_scenarios(["seed_test1_list_global_modules"])
    sim = next(e for e in scenario_stream(scn, 1) if e.event.event_id == 4104)
    text = "</Data><Data Name='x'>&amp; \"q\" 'a' <script>\r\n\tend ]]> é"
    sim.event.data["ScriptBlockText"] = text
    return sim


def test_hostile_text_is_escaped_in_xml_and_json(tmp_path: Path) -> None:
    sim = _hostile()
    text = sim.event.data["ScriptBlockText"]
    xml = _write([sim], "xml")
    root = ET.fromstring(xml)
    ns = "{http://schemas.microsoft.com/win/2004/08/events/event}"
    data = {d.get("Name"): d.text or "" for d in root.iter(f"{ns}Data")}
    assert data["ScriptBlockText"] == text
    assert "x" not in data
    for fmt in ("evtx-json", "ecs", "ndjson"):
        raw = _write([sim], fmt)
        assert raw.count(b"\n") == 1
        orjson.loads(raw)
    path = tmp_path / "h.xml"
    path.write_bytes(xml)
    (back,) = list(iter_events([str(path)], RunStats()))
    assert isinstance(back, Event) and back.data["ScriptBlockText"] == text


def test_shapes_match_the_real_tools() -> None:
    (scn,) = load_scenarios(["logging_disabled_then_module"])
    events = list(scenario_stream(scn, 1))
    evj = [orjson.loads(x) for x in _write(events, "evtx-json").splitlines()]
    system = evj[0]["Event"]["System"]
    assert list(system) == [
        "Provider", "EventID", "Version", "Level", "Task", "Opcode", "Keywords", "TimeCreated",
        "EventRecordID", "Correlation", "Execution", "Channel", "Computer", "Security",
    ]  # fmt: skip
    assert evj[0]["Event"]["#attributes"]["xmlns"].endswith("/win/2004/08/events/event")
    failed = next(x for x in evj if x["Event"]["System"]["Channel"] == "Application")
    assert failed["Event"]["System"]["EventID"] == {"#attributes": {"Qualifiers": 49152}, "#text": 2280}
    assert failed["Event"]["EventData"] == {"ModuleDll": "C:\\Windows\\Temp\\perfmon.dll"}
    sysmon = next(x for x in evj if x["Event"]["System"]["EventID"] == 1)
    assert isinstance(sysmon["Event"]["EventData"]["ProcessId"], int)  # pyevtx keeps uint32 typed
    ecs = [orjson.loads(x) for x in _write(events, "ecs").splitlines()]
    assert {"@timestamp", "winlog", "event", "host"} <= set(ecs[0])
    assert {"channel", "event_id", "provider_name", "computer_name", "record_id", "event_data"} <= set(ecs[0]["winlog"])
    flat = [orjson.loads(x) for x in _write(events, "ndjson").splitlines()]
    assert {"Channel", "EventID", "Hostname", "SourceName", "TimeCreated", "RecordNumber"} <= set(flat[0])
    eid29 = next(x for x in flat if x["EventID"] == 29)
    assert eid29["Channel"] == "Microsoft-IIS-Configuration/Operational"
    assert eid29["Keywords"] == "0x4000000000000000" and eid29["Level"] == "4"
    assert eid29["PhysicalPath"].startswith("\\\\?\\")
    assert eid29["ProviderGuid"] == "{DC0B8E51-4863-407A-BC3C-1B479B2978AC}"
    record_ids = {}
    for x in flat:
        key = (x["Hostname"], x["Channel"])
        assert x["RecordNumber"] > record_ids.get(key, 0)
        record_ids[key] = x["RecordNumber"]


def _one_step_scenario(step: dict, process: dict) -> list[SimEvent]:
    from iisdetect.simulate.build import scenario_events
    from iisdetect.simulate.schema import parse_scenario

    doc = {"id": "t", "kind": "attack", "title": "t", "start": "2024-01-01T00:00:00Z",
           "processes": {"p": process}, "steps": [{"id": "s", "at": 0, "process": "p", "malicious": True,
                                                   "expect": {"iis": ["IIS_Module_Load_Failed"]},
                                                   "known_miss": {"seed": "n/a"}, **step}]}  # fmt: skip
    return scenario_events(parse_scenario(doc, "t.yaml"), 1)


W3WP = {"image": "C:\\Windows\\System32\\inetsrv\\w3wp.exe", "user": "IIS APPPOOL\\DefaultAppPool"}


@pytest.mark.parametrize(
    ("event_id", "field"), [(2280, "ModuleDll"), (2295, "ModuleDll"), (2214, "FilterDll"), (2282, "ModuleDll")]
)
def test_w3svc_wp_load_failures(event_id: int, field: str) -> None:
    (sim,) = _one_step_scenario({"action": "module_load_failed", "dll": "C:\\x.dll", "event_id": event_id}, W3WP)
    assert sim.event.event_id == event_id and sim.event.provider == "Microsoft-Windows-IIS-W3SVC-WP"
    assert sim.event.data == {field: "C:\\x.dll"} and sim.system.qualifiers == 49152 and sim.system.level == 2


def test_pwsh_script_block_goes_to_powershellcore() -> None:
    pwsh = {"image": "C:\\Program Files\\PowerShell\\7\\pwsh.exe", "user": "CORP\\adm"}
    step = {"action": "script_block", "text": "New-WebGlobalModule -Name X -Image C:\\x.dll", "edition": "core"}
    doc = _one_step_scenario(step, pwsh)
    (sim,) = doc
    assert sim.event.channel == "PowerShellCore/Operational" and sim.event.provider == "PowerShellCore"
    assert (sim.system.level, sim.system.task, sim.system.opcode) == (5, 2, 15)
    assert sim.system.provider.guid == "{F90714A8-5509-434A-BF6D-B1624C8A19A2}"
