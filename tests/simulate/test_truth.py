"""Ground-truth sanity: the truth is declared by hand, complete, and consistent."""

from __future__ import annotations

from iisdetect.simulate import load_scenarios
from iisdetect.simulate.build import scenario_events
from iisdetect.simulate.schema import detection_types


def test_event_keys_unique_and_every_malicious_event_has_an_expectation() -> None:
    keys: set[str] = set()
    for scn in load_scenarios():
        events = scenario_events(scn, 1)
        assert events, scn.id
        for sim in events:
            t = sim.truth
            assert t.event_key not in keys
            keys.add(t.event_key)
            assert t.scenario == scn.id
            if t.malicious:
                iis = set(t.expect.get("iis", ())) | set(t.allow.get("iis", ()))
                assert iis or t.known_miss.get("iis"), t.event_key  # a report-only step documents why
                for rs in ("iis", "seed"):
                    declared = t.expect.get(rs) or t.allow.get(rs) or t.known_miss.get(rs)
                    assert declared, (t.event_key, rs)
            else:
                assert not any(t.expect.values()), t.event_key
                assert not any(t.allow.values()), t.event_key
            for rs, types in list(t.expect.items()) + list(t.known_fp.items()):
                assert set(types) <= detection_types(rs)


def test_attack_scenarios_have_malicious_events_and_benign_have_none() -> None:
    for scn in load_scenarios():
        n = sum(e.truth.malicious for e in scenario_events(scn, 1))
        if scn.kind == "benign":
            assert n == 0, scn.id
        elif not scn.id.startswith(("seed_test1", "seed_test3")):
            assert n > 0, scn.id


def test_appcmd_install_emits_one_eid29_per_element_and_attribute_then_eid50() -> None:
    (scn,) = load_scenarios(["art_t1505_004_1_appcmd_install"])
    events = scenario_events(scn, 1)
    eid29 = [e.event.data for e in events if e.event.event_id == 29]
    # per collection: the element record (no values), then one per attribute (real sample, sqeye blog)
    elements = [d for d in eid29 if "/@" not in d["Configuration"]]
    assert sorted(d["Configuration"] for d in elements) == [
        '/system.webServer/globalModules/add[@name="DefaultDocumentModule_Atomic"]',
        '/system.webServer/modules/add[@name="DefaultDocumentModule_Atomic"]',
    ]
    assert all(d["NewValue"] == d["OldValue"] == "" for d in elements)
    attrs = [d["Configuration"].rsplit("/@", 1)[1] for d in eid29 if "/@" in d["Configuration"]]
    assert sorted(attrs) == ["image", "lockItem", "name", "name"]
    assert {d["EditOperationType"] for d in eid29} == {"1"}  # an add and a value both log 1
    apphost = "\\\\?\\C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config"
    assert {d["PhysicalPath"] for d in eid29} == {apphost}
    commits = [e for e in events if e.event.event_id == 50]
    assert len(commits) == 2  # one EID 50 per committed step
    assert all(c.system.keywords == "0x4000000000000000" for c in commits)
