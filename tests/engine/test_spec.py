"""Sigma semantics end to end (rule YAML -> compile -> match), each case from the Sigma specification.

Specification: SigmaHQ/sigma-specification, specification/sigma-rules-specification.md (v2.0.0,
"String Wildcard", "Special Field Values", "Placeholders", "Keywords search") and
appendix/appendix_modifier.md (``contains``, ``fieldref``, ``expand``). Each test names the rule that
fires on which event, and the neighbouring events it must not fire on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import compile_rule, load_rules
from iisdetect.model.event import Event
from tests.helpers import SECURITY, ev

SYSTEM_LOG = ("System", "Microsoft-Windows-Eventlog")


def detector(detection: dict, logsource: dict | None = None, **kw: object) -> Detector:
    doc = {
        "title": "spec",
        "id": "0a1b2c3d-0000-4000-8000-000000000001",
        "logsource": logsource or {"product": "windows", "category": "process_creation"},
        "detection": detection,
        "level": "high",
    }
    return Detector([compile_rule(doc, Path("spec.yml"), **kw)])  # type: ignore[arg-type]


def fires(det: Detector, event: Event) -> bool:
    return [r.title for r in det.match(event)] == ["spec"]


def sel(spec: dict) -> dict:
    return {"selection": spec, "condition": "selection"}


# -- String Wildcard: "*" stands for any run of characters, so it needs a value to stand in -------------


@pytest.mark.parametrize("spec", [{"CommandLine": "*"}, {"CommandLine|contains": "*"}, {"CommandLine|contains": ""}])
def test_wildcard_only_value_matches_a_present_field_only(spec: dict) -> None:
    det = detector(sel(spec))
    assert fires(det, ev(1, {"CommandLine": "cmd /c whoami"}))
    assert fires(det, ev(1, {"CommandLine": ""}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe"}))  # neighbour without the field


def test_not_wildcard_only_value_means_the_field_is_absent() -> None:
    det = detector({"selection": {"Image|endswith": "\\x.exe"}, "filter": {"CommandLine": "*"},
                    "condition": "selection and not filter"})  # fmt: skip
    assert fires(det, ev(1, {"Image": "C:\\x.exe"}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe", "CommandLine": "x"}))


def test_question_mark_is_exactly_one_character_and_escapes_are_literal() -> None:
    det = detector(sel({"Image": "C:\\a?.exe"}))
    assert fires(det, ev(1, {"Image": "c:\\ab.exe"}))
    assert not fires(det, ev(1, {"Image": "c:\\a.exe"}))
    assert not fires(det, ev(1, {"Image": "c:\\abc.exe"}))
    literal = detector(sel({"CommandLine": "a\\*b"}))  # Sigma "a\*b": a literal star
    assert fires(literal, ev(1, {"CommandLine": "A*B"}))
    assert not fires(literal, ev(1, {"CommandLine": "axxb"}))


# -- Special Field Values: '' is an empty value, null is a null (absent) value ---------------------------


def test_null_means_absent_not_empty() -> None:
    det = detector({"selection": {"Image|endswith": "\\x.exe"}, "filter": {"ParentImage": None},
                    "condition": "selection and filter"})  # fmt: skip
    assert fires(det, ev(1, {"Image": "C:\\x.exe"}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe", "ParentImage": ""}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe", "ParentImage": "C:\\p.exe"}))


def test_empty_string_means_empty_not_absent() -> None:
    det = detector({"selection": {"Image|endswith": "\\x.exe"}, "filter": {"ParentImage": ""},
                    "condition": "selection and filter"})  # fmt: skip
    assert fires(det, ev(1, {"Image": "C:\\x.exe", "ParentImage": ""}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe"}))
    assert not fires(det, ev(1, {"Image": "C:\\x.exe", "ParentImage": "C:\\p.exe"}))


# -- numbers: a Sigma number is compared as an integer --------------------------------------------------


@pytest.mark.parametrize(("value", "hit"), [("10", True), ("010", False), ("1_0", False), ("0xa", False),
                                             (" 10", False), ("10.0", False), ("", False)])  # fmt: skip
def test_numeric_equality_is_decimal_integer_equality(value: str, hit: bool) -> None:
    det = detector(sel({"DestinationPort": 10}), {"product": "windows", "category": "network_connection"})
    assert fires(det, ev(3, {"DestinationPort": value})) is hit


# -- System fields: the record's EventID, not an EventData field of that name ---------------------------


def test_system_eventid_wins_over_an_eventdata_field_of_the_same_name() -> None:
    det = detector(sel({"EventID": 1108}), {"product": "windows", "service": "security"})
    # Security 1108 ("The event logging service encountered an error") carries an EventData EventID
    assert fires(det, ev(1108, {"EventID": "4625", "Reason": "x"}, log=SECURITY))
    assert not fires(det, ev(4625, {"EventID": "1108"}, log=SECURITY))


# -- unnamed <Data>: Sigma's field ``Data`` is any of them; param names stay as aliases -----------------


def test_data_matches_any_unnamed_value_and_param_names_still_work() -> None:
    det = detector(sel({"Data|contains": "mimikatz"}), {"product": "windows", "service": "system"})
    hit = ev(7045, {"param1": "svc", "param2": "C:\\t\\mimikatz.exe"}, log=SYSTEM_LOG)
    assert fires(det, hit)
    assert not fires(det, ev(7045, {"param1": "svc", "param2": "C:\\ok.exe"}, log=SYSTEM_LOG))
    assert hit.get("Data") == "svc, C:\\t\\mimikatz.exe" and hit.values("Data")[1].endswith("mimikatz.exe")
    alias = detector(sel({"param2|endswith": "mimikatz.exe"}), {"product": "windows", "service": "system"})
    assert fires(alias, hit)
    negated = detector({"s": {"EventID": 7045}, "f": {"Data": "svc"}, "condition": "s and not f"},
                       {"product": "windows", "service": "system"})  # fmt: skip
    assert not fires(negated, hit)  # one of the values is "svc"
    assert fires(negated, ev(7045, {"param1": "other"}, log=SYSTEM_LOG))


# -- Security 4688 as process_creation ------------------------------------------------------------------

E4688 = {
    "SubjectUserSid": "S-1-5-21-1-2-3-1001",
    "SubjectUserName": "alice",
    "SubjectDomainName": "CORP",
    "SubjectLogonId": "0x3e7",
    "NewProcessId": "0x1a2c",
    "NewProcessName": "C:\\Windows\\System32\\whoami.exe",
    "ProcessId": "0x44",
    "CommandLine": "whoami /all",
    "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
    "MandatoryLabel": "S-1-16-12288",
}


def test_4688_user_and_integrity_level_are_derived_as_sysmon_writes_them() -> None:
    det = detector(sel({"Image|endswith": "\\whoami.exe", "User": "CORP\\alice", "IntegrityLevel": "High"}))
    assert fires(det, ev(4688, E4688, log=SECURITY))
    assert not fires(det, ev(4688, {**E4688, "MandatoryLabel": "S-1-16-8192"}, log=SECURITY))
    system = detector(sel({"User|contains": "NT AUTHORITY\\SYSTEM"}))
    as_system = {**E4688, "SubjectUserSid": "S-1-5-18", "SubjectUserName": "WEB01$", "SubjectDomainName": "WORKGROUP"}
    assert fires(system, ev(4688, as_system, log=SECURITY))
    assert not fires(system, ev(4688, E4688, log=SECURITY))


def test_filter_on_a_field_4688_never_has_gets_a_note() -> None:
    notes: list[str] = []
    doc_det = {"selection": {"Image|endswith": "\\whoami.exe"}, "filter": {"OriginalFileName": "whoami.exe"},
               "condition": "selection and not filter"}  # fmt: skip
    det = detector(doc_det, notes=notes)
    assert notes == [
        "filter field(s) OriginalFileName never present in security_4688 events: those filters remove nothing there"
    ]
    assert fires(det, ev(4688, E4688, log=SECURITY))  # the filter cannot remove it: exactly what the note says
    none: list[str] = []
    detector({"selection": {"Image|endswith": "\\whoami.exe"}, "filter": {"User": "CORP\\bob"},
              "condition": "selection and not filter"}, notes=none)  # fmt: skip
    assert none == []


# -- fieldref, keywords, expand --------------------------------------------------------------------------


def test_fieldref_compares_two_fields_of_the_same_event() -> None:
    det = detector(sel({"ParentUser|fieldref": "User"}))
    assert fires(det, ev(1, {"User": "CORP\\a", "ParentUser": "corp\\A"}))
    assert not fires(det, ev(1, {"User": "CORP\\a", "ParentUser": "CORP\\b"}))
    assert not fires(det, ev(1, {"User": "CORP\\a"}))


def test_fieldref_target_is_renamed_for_4688_too() -> None:
    det = detector(sel({"CommandLine|fieldref": "Image"}))
    assert fires(det, ev(4688, {**E4688, "CommandLine": E4688["NewProcessName"]}, log=SECURITY))
    assert not fires(det, ev(4688, E4688, log=SECURITY))


def test_keywords_search_the_rendered_message() -> None:
    notes: list[str] = []
    det = detector({"keywords": ["event::clear", "event::drop"], "condition": "keywords"},
                   {"product": "windows", "service": "security"}, notes=notes)  # fmt: skip
    assert fires(det, ev(4688, {"Message": "mimikatz # EVENT::Clear"}, log=SECURITY))
    assert not fires(det, ev(4688, {"Message": "event::list"}, log=SECURITY))
    assert not fires(det, ev(4688, {"CommandLine": "event::clear"}, log=SECURITY))
    assert any("rendered message" in n for n in notes)


def test_expand_takes_placeholder_values_and_names_missing_ones() -> None:
    rule = sel({"Computer|expand": "%DomainControllers%"})
    det = detector(rule, {"product": "windows", "service": "security"}, placeholders={"DomainControllers": ["DC*"]})
    assert fires(det, ev(4624, {}, log=SECURITY, computer="DC01.corp.local"))
    assert not fires(det, ev(4624, {}, log=SECURITY, computer="WEB01.corp.local"))
    with pytest.raises(Exception, match="DomainControllers"):
        detector(rule, {"product": "windows", "service": "security"})


def test_a_field_no_log_source_has_gets_a_note() -> None:
    notes: list[str] = []
    det = detector(sel({"Image|endswith": "\\x.exe", "CommandLines|contains": "y"}), notes=notes)
    assert notes == [
        "field(s) CommandLines exist in none of the rule's log sources (sysmon_1, security_4688): "
        "the tests on them never match"
    ]
    assert not fires(det, ev(1, {"Image": "C:\\x.exe", "CommandLine": "y"}))


def test_a_placeholder_file_among_the_rule_paths_fills_expand(tmp_path: Path) -> None:
    rule_doc = {
        "title": "dc logon", "id": "0a1b2c3d-0000-4000-8000-000000000002", "level": "high",
        "logsource": {"product": "windows", "service": "security"},
        "detection": {"selection": {"EventID": 4624, "Computer|expand": "%DomainControllers%"},
                      "condition": "selection"},
    }  # fmt: skip
    (tmp_path / "dc.yml").write_text(yaml.safe_dump(rule_doc))
    without = load_rules(None, [str(tmp_path / "dc.yml")])
    assert without.rules == [] and "%DomainControllers%" in without.warnings[0]
    (tmp_path / "vars.yml").write_text("placeholders:\n  DomainControllers: ['DC0*', 'ROOTDC']\n")
    report = load_rules(None, [str(tmp_path)])
    assert report.warnings == [] and [r.title for r in report.rules] == ["dc logon"]
    det = Detector(report.rules)
    assert det.match(ev(4624, {}, log=SECURITY, computer="dc01.corp.local"))
    assert det.match(ev(4624, {}, log=SECURITY, computer="ROOTDC"))
    assert not det.match(ev(4624, {}, log=SECURITY, computer="WEB01"))
    assert not det.match(ev(4625, {}, log=SECURITY, computer="DC01"))
