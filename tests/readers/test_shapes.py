"""The same three events (Sysmon 7, Security 4688, IIS-Configuration 29) in every input shape.

Each fixture in ``tests/fixtures/readers/shapes`` was written by hand in its tool's real layout
(pyevtx JSON, NXLog/OTRF flat JSON, Winlogbeat ECS nested and dotted, Splunk rows with ``_raw`` XML
and with extracted fields, XML with and without a root, ForwardedEvents with RenderingInfo). All must
normalise to the Events spelled out below (Event equality ignores source/locator).
"""

from __future__ import annotations

import pytest

from iisdetect.model.event import Event
from iisdetect.readers import Format, sniff

from .util import SHAPES, read_all

INETSRV = "C:\\Windows\\System32\\inetsrv\\"
HOST = "WEB01.corp.local"

EXPECTED = [
    Event(
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-Sysmon",
        7,
        HOST,
        "2024-05-02T10:15:30.123456Z",
        4711,
        "S-1-5-18",
        {
            "RuleName": "-",
            "UtcTime": "2024-05-02 10:15:30.120",
            "ProcessGuid": "{0d6a1c4e-6a2b-6633-1f00-000000000c00}",
            "ProcessId": "4242",
            "Image": INETSRV + "w3wp.exe",
            "ImageLoaded": INETSRV + "evilmod.dll",
            "FileVersion": "",
            "Description": "",
            "Product": "-",
            "Company": "-",
            "OriginalFileName": "-",
            "Hashes": "SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
            "Signed": "false",
            "Signature": "",
            "SignatureStatus": "Unavailable",
            "User": "IIS APPPOOL\\DefaultAppPool",
        },
    ),
    Event(
        "Security",
        "Microsoft-Windows-Security-Auditing",
        4688,
        HOST,
        "2024-05-02T10:14:02.555000Z",
        99812,
        None,
        {
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": "WEB01$",
            "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e7",
            "NewProcessId": "0x1a2c",
            "NewProcessName": INETSRV + "appcmd.exe",
            "TokenElevationType": "%%1936",
            "ProcessId": "0x10f0",
            "CommandLine": f'appcmd.exe install module /name:EvilMod /image:{INETSRV}evilmod.dll & echo "done"',
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
            "MandatoryLabel": "S-1-16-16384",
        },
    ),
    Event(
        "Microsoft-IIS-Configuration/Operational",
        "Microsoft-Windows-IIS-Configuration",
        29,
        HOST,
        "2024-05-02T10:14:03.000000Z",
        12,
        "S-1-5-21-1111111111-2222222222-3333333333-500",
        {
            "PathName": "MACHINE/WEBROOT/APPHOST",
            "Configuration": "/system.webServer/globalModules/add[@name='EvilMod']",
            "OldValue": "",
            "NewValue": INETSRV + "evilmod.dll",
        },
    ),
]

SHAPE_FILES = {
    "events.evtx.jsonl": (Format.EVTX_JSON, "line"),
    "events.flat.json": (Format.FLAT_JSON, "line"),
    "events.ecs.json": (Format.ECS, "line"),
    "events.splunk-raw.json": (Format.SPLUNK_JSON, "line"),
    "events.splunk-fields.json": (Format.SPLUNK_JSON, "line"),
    "events_root.xml": (Format.XML, "element"),
    "events_noroot.xml": (Format.XML, "element"),
    "events_forwarded.xml": (Format.XML, "element"),
}


@pytest.mark.parametrize("name", sorted(SHAPE_FILES))
def test_every_shape_yields_the_same_events(name):
    path = SHAPES / name
    fmt, unit = SHAPE_FILES[name]
    assert sniff(path.read_bytes()[:65536], name)[0] is fmt
    events, stats = read_all(path)
    assert stats.records_skipped == 0 and stats.formats == {fmt.value: 1}
    assert len(events) == 3
    for got, want in zip(events, EXPECTED, strict=True):
        assert got.content() == want.content()  # field-by-field diff on failure
        assert got == want
    assert [e.locator for e in events] == [f"{unit} {i}" for i in (1, 2, 3)]
    assert {e.source for e in events} == {str(path)}


def test_event_equality_is_sensitive():
    """Guard for the test above: one changed field breaks equality."""
    a = EXPECTED[2]
    b = Event(
        a.channel,
        a.provider,
        a.event_id,
        a.computer,
        a.time_created,
        a.record_id,
        a.user_sid,
        {**a.data, "OldValue": " "},
    )
    assert a != b


def test_stringify_keeps_nested_values_as_data() -> None:
    from iisdetect.model.event import stringify

    assert stringify({"#text": 5, "#attributes": {"Qualifiers": 0}}) == "5"
    assert stringify({"#attributes": {"x": "1"}}) == ""
    assert stringify({"b": 1, "a": "x"}) == '{"a":"x","b":1}'  # not silently emptied
    assert stringify([1, True, None]) == "1, true, "
