"""EvtxECmd CSV: sniffed by header, rows mapped to the canonical event, bad rows counted.

The header is EvtxECmd's 27-column layout and the 4624 row follows a public EvtxECmd export
(see the reader's docstring for the sources); the Sysmon 7 row is built the same way.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson

from iisdetect.cli import main
from iisdetect.readers.sniff import Format, sniff
from tests.readers.util import read_all

HEADER = [
    "RecordNumber",
    "EventRecordId",
    "TimeCreated",
    "EventId",
    "Level",
    "Provider",
    "Channel",
    "ProcessId",
    "ThreadId",
    "Computer",
    "ChunkNumber",
    "UserId",
    "MapDescription",
    "UserName",
    "RemoteHost",
    "PayloadData1",
    "PayloadData2",
    "PayloadData3",
    "PayloadData4",
    "PayloadData5",
    "PayloadData6",
    "ExecutableInfo",
    "HiddenRecord",
    "SourceFile",
    "Keywords",
    "ExtraDataOffset",
    "Payload",
]


def payload(fields: dict[str, str | None]) -> str:
    data = [{"@Name": k} if v is None else {"@Name": k, "#text": v} for k, v in fields.items()]
    return orjson.dumps({"EventData": {"Data": data}}).decode()


def row(record: int, rid: int, eid: int, provider: str, channel: str, fields: dict, **kw: str) -> dict[str, str]:
    base = dict.fromkeys(HEADER, "")
    base.update(
        RecordNumber=str(record),
        EventRecordId=str(rid),
        TimeCreated=kw.get("time", "2016-10-06 01:47:21.9551972"),
        EventId=str(eid),
        Level="Info",
        Provider=provider,
        Channel=channel,
        Computer=kw.get("computer", "WIN-WFBHIBE5GXZ.example.co.jp"),
        UserId=kw.get("sid", "S-1-5-18"),
        HiddenRecord="False",
        SourceFile=r"C:\Triage\Logs\x.evtx",
        Payload=kw.get("payload") or payload(fields),
    )
    return base


SYSMON7 = {
    "RuleName": "-",
    "UtcTime": "2016-10-06 01:47:21.955",
    "Image": r"C:\Windows\System32\inetsrv\w3wp.exe",
    "ImageLoaded": r"C:\Users\Public\evil.dll",
    "Signed": "false",
    "Signature": None,  # an element with no text
    "SignatureStatus": "Unavailable",
    "Hashes": "SHA256=0123",
    "User": r"IIS APPPOOL\DefaultAppPool",
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())  # EvtxECmd writes a UTF-8 BOM
    return path


def sample(tmp_path: Path) -> Path:
    rows = [
        row(
            1,
            227443,
            4624,
            "Microsoft-Windows-Security-Auditing",
            "Security",
            {
                "SubjectUserSid": "S-1-0-0",
                "TargetUserName": "WIN-WFBHIBE5GXZ$",
                "LogonType": "3",
                "WorkstationName": None,
            },
        ),
        row(2, 5005, 7, "Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational", SYSMON7),
        row(
            3,
            5006,
            7,
            "Microsoft-Windows-Sysmon",
            "Microsoft-Windows-Sysmon/Operational",
            {},
            payload='{"EventData": {"Data": [{"@Name": "Image", ',
        ),  # truncated Payload
    ]
    return write_csv(tmp_path / "EvtxECmd_Output.csv", rows)


def test_sniffed_by_header_not_by_name(tmp_path: Path) -> None:
    path = sample(tmp_path)
    renamed = tmp_path / "export.txt"
    renamed.write_bytes(path.read_bytes())
    assert sniff(renamed.read_bytes()[:4096], "export.txt")[0] is Format.EVTXECMD_CSV
    assert sniff(b"name,value\nx,1\n", "x.csv")[0] is Format.UNKNOWN


def test_rows_map_to_canonical_events(tmp_path: Path) -> None:
    events, stats = read_all(sample(tmp_path))
    assert stats.formats == {"evtxecmd-csv": 1}
    assert stats.records_read == 2 and stats.records_skipped == 1
    assert stats.skips[0].reason == "bad record" and stats.skips[0].locator.startswith("line 4 ")
    logon, load = events
    assert logon.record_id == 227443 and logon.event_id == 4624 and logon.channel == "Security"
    assert logon.time_created == "2016-10-06T01:47:21.955197Z"
    assert logon.data["LogonType"] == "3" and logon.data["WorkstationName"] == ""
    assert load.record_id == 5005 and load.locator == r"line 3 (C:\Triage\Logs\x.evtx record 2)"
    assert load.data["Signature"] == "" and load.data["ImageLoaded"] == SYSMON7["ImageLoaded"]
    assert load.user_sid == "S-1-5-18" and load.computer == "WIN-WFBHIBE5GXZ.example.co.jp"


def test_single_data_unnamed_data_and_userdata(tmp_path: Path) -> None:
    one = orjson.dumps({"EventData": {"Data": {"@Name": "ScriptBlockText", "#text": "Get-Item x"}}}).decode()
    unnamed = orjson.dumps({"EventData": {"Data": ["a", {"#text": "b"}]}}).decode()
    user = orjson.dumps({"UserData": {"LogFileCleared": {"@xmlns": "x", "SubjectUserName": "bob"}}}).decode()
    rows = [row(i, 10 + i, 1, "P", "C", {}, payload=p) for i, p in enumerate((one, unnamed, user), 1)]
    events, _ = read_all(write_csv(tmp_path / "t.csv", rows))
    assert [e.data for e in events] == [
        {"ScriptBlockText": "Get-Item x"},
        {"param1": "a", "param2": "b"},
        {"SubjectUserName": "bob"},
    ]


def test_hunt_fires_on_the_unsigned_load_only(capsys, tmp_path: Path) -> None:
    code = main(["hunt", str(sample(tmp_path)), "--format", "json", "--no-correlate"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    fired = {(a["EventRecordID"], a["detection_type"]) for a in doc["alerts"]}
    assert fired and {rid for rid, _ in fired} == {5005}  # not the 4624 neighbour
    assert "IIS_Untrusted_Module_Load" in {t for _, t in fired}
