"""Flat JSON (NXLog ``to_json()``, OTRF Security-Datasets, ``simulate --format ndjson``).

EventData fields sit at the top level next to transport/System metadata, so the metadata keys must be
known to be removed; everything else is EventData under its Windows name. The key list below comes
from the real OTRF files in the corpus (NXLog im_msvistalog + Logstash, and the newer OTRF schema):

* always metadata: System fields (``SourceName``, ``ProviderGuid``, ``Level``, ``Keywords``, ``Task``,
  ``Opcode``, ``OpcodeValue``, ``Version``, ``RecordNumber``, ``EventRecordID``, ``ActivityID``,
  ``RelatedActivityID``, ``ExecutionProcessID``, ``ExecutionThreadID``, ``ThreadID``, ``Channel``,
  ``Hostname``, ``EventID``, ``TimeCreated``, ``UserID``), NXLog (``EventTime``,
  ``EventReceivedTime``, ``SourceModuleName``, ``SourceModuleType``, ``Severity``, ``SeverityValue``,
  ``Category``, ``Message``, ``EventTypeOrignal``, ``ERROR_EVT_UNRESOLVED``) and Logstash (``@timestamp``,
  ``@version``, ``host``, ``port``, ``tags``).
* ``EventType`` is NXLog's severity (INFO, AUDIT_SUCCESS...) *unless* it is Sysmon's EventData field
  (``SetValue``, ``CreateKey``, ``CreatePipe``...): it is dropped only when it holds an NXLog value.
* ``AccountName``/``AccountType``/``Domain`` are NXLog's resolution of ``UserID``: dropped only when
  ``AccountType`` (which only NXLog writes) is present.
* ``ProviderName``/``Computer`` are used for provider/computer only when ``SourceName``/``Hostname``
  are absent (then they are metadata); otherwise they stay EventData (firewall events have a
  ``ProviderName`` field).
* ``UserData``/``EventData`` holding an object are merged (flattened); holding null they are dropped.

Time: ``TimeCreated``, else ``@timestamp``, else NXLog ``EventTime`` (local time without offset, so
last). Record id: ``EventRecordID``, else ``RecordNumber``. User SID: ``UserID``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from iisdetect.model.event import Event, message_text, stringify
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .evtx_json import _flatten
from .json_loop import read_json

METADATA_KEYS = frozenset(
    {
        "SourceName", "ProviderGuid", "Level", "Keywords", "Task", "Opcode", "OpcodeValue", "Version",
        "RecordNumber", "EventRecordID", "ActivityID", "RelatedActivityID", "ExecutionProcessID",
        "ExecutionThreadID", "ThreadID", "Channel", "Hostname", "EventID", "TimeCreated", "UserID",
        "EventTime", "EventReceivedTime", "SourceModuleName", "SourceModuleType", "Severity",
        "SeverityValue", "Category", "Message", "EventTypeOrignal", "ERROR_EVT_UNRESOLVED",
        "@timestamp", "@version", "host", "port", "tags", "UserData", "EventData",
    }
)  # fmt: skip

#: Values NXLog writes into its own ``EventType`` field (anything else is Sysmon's EventData).
NXLOG_EVENT_TYPES = frozenset({"INFO", "AUDIT_SUCCESS", "AUDIT_FAILURE", "WARNING", "ERROR", "CRITICAL", "VERBOSE"})
NXLOG_ACCOUNT_KEYS = ("AccountName", "AccountType", "Domain")


def normalise_flat(obj: Any, source: str, locator: str) -> Event | None:
    if type(obj) is not dict:
        return None
    eid = obj.get("EventID")
    if eid is None:
        return None
    meta = METADATA_KEYS
    data = {k: (v if type(v) is str else stringify(v)) for k, v in obj.items() if k not in meta}
    if data.get("EventType") in NXLOG_EVENT_TYPES:
        del data["EventType"]
    if "AccountType" in obj:
        for k in NXLOG_ACCOUNT_KEYS:
            data.pop(k, None)
    provider = obj.get("SourceName")
    if provider is None:
        provider = data.pop("ProviderName", "")
    computer = obj.get("Hostname")
    if computer is None:
        computer = data.pop("Computer", "")
    for nested in ("EventData", "UserData"):
        sub = obj.get(nested)
        if isinstance(sub, dict):
            _flatten(sub, data)
    time = obj.get("TimeCreated") or obj.get("@timestamp") or obj.get("EventTime")
    rid = obj.get("EventRecordID")
    if rid is None:
        rid = obj.get("RecordNumber")
    sid = obj.get("UserID")
    return Event(
        obj.get("Channel") or "",
        provider,
        eid if type(eid) is int else int(eid),
        computer,
        normalise_time(time),
        None if rid is None or rid == "" else int(rid),
        None if sid is None or sid == "" else str(sid),
        data,
        source,
        locator,
        message=message_text(obj.get("Message")),
    )


def read(fobj: BinaryIO, source: str, stats: RunStats, gate: Any = None) -> Iterator[Event]:
    return read_json(fobj, source, stats, normalise_flat, gate)
