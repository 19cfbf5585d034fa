"""Splunk JSON exports: ``{"result": {...}}`` rows (REST/CLI ``-output json``) or bare rows.

Two kinds of row: with Windows XML in ``_raw`` (XmlWinEventLog) it is parsed by the XML reader's
element normaliser (defusedxml), so it equals the XML shape exactly. Otherwise the extracted fields
are used: ``EventCode``/``EventID``, ``LogName``/``Channel`` or the channel named by
``source``/``sourcetype`` (``WinEventLog:Security``), ``SourceName``/``Name`` (provider),
``ComputerName``/``Computer``/``host``, ``SystemTime``/``TimeCreated``/``_time``,
``RecordNumber``/``EventRecordID``, ``Sid``/``UserID``; every other non-Splunk field is EventData
(Splunk internals: ``_*``, ``date_*``, ``punct``, ``index``, ``linecount``, ``splunk_server*``,
``eventtype``, ``tag*``, ``time*pos``). A classic-WinEventLog numeric ``EventType`` and level-name
``Type`` (Information, Audit Success...) are dropped; Sysmon's ``EventType`` or another ``Type`` kept.
Multivalue fields (lists) are joined with ``", "``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from iisdetect.model.event import Event, stringify
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .json_loop import read_json
from .xml import parse_event_xml

SPLUNK_KEYS = frozenset(
    {
        "punct", "index", "linecount", "splunk_server", "splunk_server_group", "eventtype", "tag",
        "timestartpos", "timeendpos", "host", "source", "sourcetype",
        # Windows System-part fields as Splunk extracts them
        "LogName", "Channel", "SourceName", "Name", "EventCode", "EventID", "ComputerName", "Computer",
        "RecordNumber", "EventRecordID", "Sid", "SidType", "UserID", "SystemTime", "TimeCreated",
        "TaskCategory", "OpCode", "Opcode", "Keywords", "Level", "Task", "Version", "Guid",
        "ProcessID", "ThreadID", "Message", "Qualifiers", "Correlation", "ActivityID",
    }
)  # fmt: skip


CLASSIC_TYPES = frozenset(
    {"Information", "Warning", "Error", "Critical", "Verbose", "Audit Success", "Audit Failure", "Success Audit",
     "Failure Audit"}
)  # fmt: skip


def _channel(row: dict) -> str:
    for key in ("LogName", "Channel"):
        if row.get(key):
            return stringify(row[key])
    for key in ("source", "sourcetype"):
        text = stringify(row.get(key))
        if "WinEventLog:" in text:
            return text.split("WinEventLog:", 1)[1]
    return ""


def _first(row: dict, *keys: str) -> Any:
    for k in keys:
        v = row.get(k)
        if v is not None and v != "":
            return v[0] if isinstance(v, list) and v else v
    return None


def normalise_splunk(obj: Any, source: str, locator: str) -> Event | None:
    if type(obj) is not dict:
        return None
    row = obj.get("result", obj)
    if not isinstance(row, dict):
        return None
    raw = row.get("_raw")
    if isinstance(raw, str) and raw.lstrip().startswith("<"):
        return parse_event_xml(raw.strip().encode("utf-8"), source, locator)
    eid = _first(row, "EventCode", "EventID")
    if eid is None:
        return None
    data = {
        k: stringify(v)
        for k, v in row.items()
        if k not in SPLUNK_KEYS and k[0] != "_" and not k.startswith(("date_", "tag::"))
    }
    if data.get("EventType", "x").isdigit():
        del data["EventType"]
    if data.get("Type") in CLASSIC_TYPES:  # classic WinEventLog's level name, not an EventData "Type"
        del data["Type"]
    time = _first(row, "SystemTime", "TimeCreated", "_time")
    if isinstance(time, str):
        time = time.strip("'\"")
        if time.replace(".", "", 1).isdigit():  # ``_time`` as epoch seconds in a string
            time = float(time)
    rid = _first(row, "RecordNumber", "EventRecordID")
    sid = _first(row, "Sid", "UserID")
    return Event(
        _channel(row),
        stringify(_first(row, "SourceName", "Name") or ""),
        int(eid),
        stringify(_first(row, "ComputerName", "Computer", "host") or ""),
        normalise_time(time),
        None if rid is None else int(rid),
        None if sid is None else stringify(sid),
        data,
        source,
        locator,
    )


def read(fobj: BinaryIO, source: str, stats: RunStats) -> Iterator[Event]:
    return read_json(fobj, source, stats, normalise_splunk)
