"""Rendered messages (for Sigma keyword searches) and EventData names with spaces.

Shapes: RenderedXml as ``wevtutil qe /e:Events /f:RenderedXml`` writes it (``<RenderingInfo>``
after ``<EventData>``, https://learn.microsoft.com/windows-server/administration/windows-commands/wevtutil),
NXLog flat JSON (``Message`` beside the fields, as in the OTRF datasets of the corpus), and the
Defender Operational names (``Threat Name``, ``Source Name``) of SigmaHQ's regression sample
``win_defender_exploit_redsun_tiering_engine_detected_as_eicar``.
"""

from __future__ import annotations

import orjson

from iisdetect.model.stats import RunStats
from iisdetect.readers import evtx_json, flat_json
from iisdetect.readers import xml as xml_reader

RENDERED = """<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>
<Provider Name='Microsoft-Windows-Windows Defender'/><EventID>1116</EventID>
<TimeCreated SystemTime='2026-04-17T04:14:33.6534140Z'/><EventRecordID>542</EventRecordID>
<Channel>Microsoft-Windows-Windows Defender/Operational</Channel><Computer>pc1</Computer></System>
<EventData><Data Name='Threat Name'>Virus:DOS/EICAR_Test_File</Data><Data Name='Source Name'>Real-Time Protection</Data>
</EventData><RenderingInfo Culture='en-US'><Message>Microsoft Defender Antivirus has detected malware</Message>
<Level>Warning</Level></RenderingInfo></Event>"""


def test_rendered_xml_keeps_the_message_outside_the_event_data() -> None:
    ev = xml_reader.parse_event_xml(RENDERED, "t.xml", "element 1")
    assert ev.message == "Microsoft Defender Antivirus has detected malware"
    assert ev.get("Message") == ev.message
    assert ev.data == {"ThreatName": "Virus:DOS/EICAR_Test_File", "SourceName": "Real-Time Protection"}


def test_evtx_json_names_lose_their_spaces_and_have_no_message() -> None:
    raw = {"System": {"EventID": 1116, "Channel": "Microsoft-Windows-Windows Defender/Operational"},
           "EventData": {"Threat Name": "x", "Process Name": "C:\\RedSun.exe", "Path": "file:_C:\\a"}}  # fmt: skip
    ev = evtx_json.normalise_event(raw, "t.json", "record 1")
    assert ev.data == {"ThreatName": "x", "ProcessName": "C:\\RedSun.exe", "Path": "file:_C:\\a"}
    assert ev.message is None and ev.get("Message") is None


def test_nxlog_message_is_the_rendered_message_not_a_field(tmp_path) -> None:
    line = {"EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational", "Hostname": "pc1",
            "SourceName": "Microsoft-Windows-PowerShell", "Message": "Creating Scriptblock text (1 of 1): iex x",
            "ScriptBlockText": "iex x"}  # fmt: skip
    path = tmp_path / "x.json"
    path.write_bytes(orjson.dumps(line) + b"\n")
    with path.open("rb") as f:
        (ev,) = list(flat_json.read(f, str(path), RunStats()))
    assert ev.message == "Creating Scriptblock text (1 of 1): iex x"
    assert "Message" not in ev.data
