"""The System/EventData normaliser shared by EVTX and evtx-json (pyevtx ``records_json`` shape).

Why shared: ``evtx_dump -o jsonl`` and pyevtx's ``records_json()`` emit the very same structure
(XML turned into JSON with ``#attributes`` / ``#text``), so one function serves both and the EVTX
hot path (~100k+ records/s) is the code tested by the evtx-json fixtures.

Unnamed ``<Data>`` elements (classic providers, e.g. Application 2282, MSExchange) are named
``param1``, ``param2``... in document order, as Winlogbeat does, so the ECS shape agrees. An empty
``<Binary/>`` is dropped; a non-empty one is kept as ``Binary``. ``<UserData>`` is flattened: the
children (recursively, leaf names only) of its single wrapper element become the data fields.
Spaces are removed from field names (Defender's ``Threat Name`` is ``ThreatName``), as Sigma rules
name them (SigmaHQ's windefend rules: ``SourceName``, ``ThreatName``, ``ProcessName``).

GUID-typed EventData values (Sysmon ``ProcessGuid``/``ParentProcessGuid``/``LogonGuid``/
``SourceProcessGUID``, Security ``LogonGuid``) are given back their braces: the Rust parser renders
them bare (``"ProcessGuid":"747F3D96-D6EB-5D31-0000-0010E0252500"`` in the corpus's
``EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx``), while Windows'
own XML (wevtutil, Event Viewer, Splunk's XmlWinEventLog, Winlogbeat's ``process.entity_id``) writes
``{...}``. One canonical form, so a process seen in an EVTX and in an XML export is the same process.
Only names ending in ``Guid``/``GUID`` are touched: PowerShell's ``ScriptBlockId`` is a string type,
bare in every shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from iisdetect.model.event import Event, stringify
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .json_loop import read_json

_GUID_NAMES = ("Guid", "GUID")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}").fullmatch


def field_name(name: str) -> str:
    """An EventData name as rules write it: without spaces (``Threat Name`` -> ``ThreatName``)."""
    return name.replace(" ", "")


def unnamed_data(value: Any, data: dict[str, str]) -> None:
    """Add unnamed ``<Data>`` values (``{"#text": [..]}``, a list or a scalar) as param1..N."""
    if isinstance(value, dict):
        value = value.get("#text")
    if not isinstance(value, list):
        value = [value]
    n = sum(1 for k in data if k.startswith("param"))
    for v in value:
        n += 1
        data[f"param{n}"] = stringify(v)


def event_data(ed: Any) -> dict[str, str]:
    """EventData dict (pyevtx shape) -> ``{name: str}``."""
    if type(ed) is not dict:
        return {} if ed is None or ed == "" else {"param1": stringify(ed)}
    data: dict[str, str] = {}
    for k, v in ed.items():
        if k == "Data":
            unnamed_data(v, data)
            continue
        if " " in k:
            k = field_name(k)
        t = type(v)
        if t is str:
            data[k] = "{" + v + "}" if len(v) == 36 and k[-4:] in _GUID_NAMES and _GUID(v) else v
        elif k[0] == "#":
            continue
        elif t is int:  # fast path: pyevtx renders numbers (ProcessId, LogonType) as JSON integers
            data[k] = str(v)
        else:
            data[k] = stringify(v)
    if not data.get("Binary", True):
        del data["Binary"]
    return data


def _flatten(node: dict, data: dict[str, str]) -> None:
    for k, v in node.items():
        if k[0] == "#":
            continue
        if isinstance(v, dict) and "#text" not in v and any(c[0] != "#" for c in v):
            _flatten(v, data)
        else:
            text = stringify(v)
            data[k] = f"{data[k]}, {text}" if k in data else text


def user_data(ud: Any) -> dict[str, str]:
    """UserData: flatten the children of its one wrapper element (e.g. ``<LogFileCleared>``)."""
    data: dict[str, str] = {}
    if isinstance(ud, dict):
        for k, wrapper in ud.items():
            if k[0] != "#" and isinstance(wrapper, dict):
                _flatten(wrapper, data)
    return data


def normalise_event(ev: dict, source: str, locator: str) -> Event:
    """``{"System": {...}, "EventData"|"UserData": {...}}`` -> Event. Raises on a broken System."""
    system = ev["System"]
    eid = system["EventID"]
    if type(eid) is not int:
        eid = int(eid["#text"] if type(eid) is dict else eid)
    prov = system.get("Provider")
    provider = (prov.get("#attributes") or {}).get("Name", "") if prov else ""
    tc = system.get("TimeCreated")
    time = (tc.get("#attributes") or {}).get("SystemTime") if tc else ""
    if not (type(time) is str and len(time) == 27 and time[26] == "Z" and time[19] == "." and time[10] == "T"):
        time = normalise_time(time)  # pyevtx already writes the canonical form: skip the regex then
    rid = system.get("EventRecordID")
    if rid is not None and type(rid) is not int:
        rid = int(rid["#text"] if type(rid) is dict else rid)
    sec = system.get("Security")
    sid = (sec.get("#attributes") or {}).get("UserID") if sec else None
    ed = ev.get("EventData")
    if ed is not None:
        data = event_data(ed)
    else:
        ud = ev.get("UserData")
        data = user_data(ud) if ud else {}
    return Event(
        system.get("Channel") or "",
        provider or "",
        eid,
        system.get("Computer") or "",
        time,
        rid,
        sid,
        data,
        source,
        locator,
    )


def normalise_json_line(obj: Any, source: str, locator: str) -> Event | None:
    """One evtx-json line: ``{"Event": {...}}`` (or the bare ``Event`` content)."""
    ev = obj.get("Event", obj) if isinstance(obj, dict) else None
    if not isinstance(ev, dict) or "System" not in ev:
        return None
    return normalise_event(ev, source, locator)


def read(fobj: BinaryIO, source: str, stats: RunStats, gate: Any = None) -> Iterator[Event]:
    return read_json(fobj, source, stats, normalise_json_line, gate, provider=True)
