"""The one adapter over the hunt JSON: today's flat alert rows and the richer shape (event, record_id, time)."""

from __future__ import annotations

import pytest

from iisdetect.errors import UsageError
from iisdetect.report.result_doc import from_dict

FLAT = {
    "event_time": "2024-05-02 09:35:01", "EventID": "11", "detection_type": "IIS_Dir_DLL_Write",
    "initiating_process": r"C:\Windows\System32\cmd.exe", "file_path": r"C:\Windows\System32\inetsrv\x.dll",
    "loaded_dll": None, "registry_key": None, "CommandLine": None, "rule_id": "r1", "rule_title": "t",
    "level": "medium", "Computer": "WEB01", "source": "a.evtx", "record": "record 7",
    "incident": "INC-0001", "notes": "",
}  # fmt: skip


def test_flat_rows_today() -> None:
    doc = from_dict({"incidents": [{"incident": "INC-0001", "host": "WEB01", "alerts": [FLAT]}], "summary": {}})
    a = doc.alerts()[0]
    assert (a.time, a.record, a.evidence, a.guide) == (
        "2024-05-02 09:35:01", "record 7", r"C:\Windows\System32\inetsrv\x.dll", "guide-iis-dir-dll-write",
    )  # fmt: skip
    assert not a.full_event and a.event["file_path"].endswith("x.dll")


def test_richer_shape_is_preferred_when_present() -> None:
    event = {"Computer": "WEB01", "EventID": 29, "EventData": {"Configuration": "/system.webServer/globalModules/add"
             "[@name='X']/@image", "NewValue": r"C:\Temp\x.dll"}}  # fmt: skip
    row = {**FLAT, "EventID": "29", "file_path": None, "detection_type": "IIS_Config_Module_Added",
           "time": "2024-05-02T09:35:01.103Z", "record_id": 4242, "guide": "guide-custom", "event": event}  # fmt: skip
    a = from_dict({"alerts": [row], "summary": {}}).alerts()[0]
    assert a.time == "2024-05-02T09:35:01.103Z" and a.record == "4242" and a.guide == "guide-custom"
    assert a.full_event and a.event is event
    assert a.evidence == r"/system.webServer/globalModules/add[@name='X']/@image = C:\Temp\x.dll"


@pytest.mark.parametrize(
    "doc",
    [[], {"incidents": []}, {"summary": {}, "incidents": 3}, {"summary": {}, "alerts": ["x"]},
     {"summary": {}, "incidents": ["x"]}],
)  # fmt: skip
def test_wrong_shapes_are_one_line_errors(doc: object) -> None:
    with pytest.raises(UsageError):
        from_dict(doc)
