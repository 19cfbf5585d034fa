"""EvtxECmd CSV (Eric Zimmerman's EvtxECmd ``--csv``; what KAPE's EvtxECmd module writes).

Recognised by its header, never by name: the first line is a CSV header naming at least
``EventRecordId``, ``TimeCreated``, ``EventId``, ``Channel``, ``Computer`` and ``Payload``. Column
order has changed between EvtxECmd versions (``UserId``/``MapDescription``/``ChunkNumber`` moved),
so columns are found by name. Real samples: the 27-column header
``RecordNumber,EventRecordId,TimeCreated,EventId,Level,Provider,Channel,ProcessId,ThreadId,Computer,
ChunkNumber,UserId,MapDescription,UserName,RemoteHost,PayloadData1..6,ExecutableInfo,HiddenRecord,
SourceFile,Keywords,ExtraDataOffset,Payload`` with rows such as a Security 4624 export
(``227443,227443,2016-10-06 01:47:21.9551972,4624,LogAlways,Microsoft-Windows-Security-Auditing,...``)
shown in sumeshi's "Quilt" article (EvtxECmd -f Security.evtx --csv ...), and the header set that
Timeline Explorer accepts for EvtxECmd files (EricZimmerman, TimelineExplorer file specs: ``RecordNumber,
EventRecordId,TimeCreated,EventId,Level,Provider,Channel,ProcessId,ThreadId,Computer,UserId,
MapDescription,ChunkNumber,UserName,RemoteHost,PayloadData1..6,ExecutableInfo,HiddenRecord,SourceFile,
Payload,Keywords,ExtraDataOffset``). EvtxECmd itself: https://github.com/EricZimmerman/evtx.

Mapping to the canonical event:

* ``Channel``, ``Provider``, ``EventId``, ``Computer``, ``EventRecordId`` (the System value, not
  ``RecordNumber``, the record header number), ``UserId`` (SID);
* ``TimeCreated`` is UTC (``2016-10-06 01:47:21.9551972``, newer builds add ``T``/``Z``);
* EventData comes from ``Payload``, EvtxECmd's JSON rendering of the XML:
  ``{"EventData": {"Data": [{"@Name": "SubjectUserSid", "#text": "S-1-0-0"}, ...]}}`` (a single
  ``Data`` is an object, an element without ``#text`` is empty, unnamed ``Data`` become param1..N,
  ``UserData`` is flattened like the EVTX reader does). ``PayloadData1..6``/``MapDescription`` are
  EvtxECmd's map summaries of the same fields and are not used (they differ per map version).
* locator: ``line N`` (the CSV line where the row starts), plus the original file and record number
  when EvtxECmd wrote them (``line 2 (C:\\...\\Security.evtx record 227443)``).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from iisdetect.model.event import Event, stringify
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .evtx_json import _flatten

REQUIRED = ("EventRecordId", "TimeCreated", "EventId", "Channel", "Computer", "Payload")
#: A Payload holds a whole script block or command line: allow large cells (16 MiB).
FIELD_LIMIT = 16 * 1024 * 1024


def is_header(first_line: str) -> bool:
    """True when ``first_line`` is an EvtxECmd CSV header (all required columns present)."""
    cols = {c.strip().strip('"') for c in first_line.strip().split(",")}
    return all(r in cols for r in REQUIRED)


def payload_data(payload: str) -> dict[str, str]:
    """EventData (or flattened UserData) from EvtxECmd's Payload JSON; ``{}`` when empty."""
    if not payload:
        return {}
    doc = orjson.loads(payload)
    if not isinstance(doc, dict):
        raise ValueError("Payload is not a JSON object")
    data: dict[str, str] = {}
    ed = doc.get("EventData")
    if isinstance(ed, dict):
        items = ed.get("Data")
        if items is not None and not isinstance(items, list):
            items = [items]
        n = 0
        for item in items or []:
            if isinstance(item, dict) and "@Name" in item:
                data[str(item["@Name"])] = stringify(item.get("#text", ""))
            else:
                n += 1
                data[f"param{n}"] = stringify(item.get("#text", "") if isinstance(item, dict) else item)
        binary = ed.get("Binary")
        if binary:
            data["Binary"] = stringify(binary)
    elif ed not in (None, ""):
        data["param1"] = stringify(ed)
    ud = doc.get("UserData")
    if isinstance(ud, dict):
        for k, wrapper in ud.items():
            if k[:1] not in ("#", "@") and isinstance(wrapper, dict):
                _flatten({c: v for c, v in wrapper.items() if not c.startswith("@")}, data)
    return data


def _row_event(row: dict[str, Any], source: str, locator: str) -> Event:
    rid = row.get("EventRecordId") or ""
    return Event(
        row.get("Channel") or "",
        row.get("Provider") or "",
        int(row["EventId"]),
        row.get("Computer") or "",
        normalise_time(row.get("TimeCreated") or ""),
        int(rid) if rid.strip() else None,
        row.get("UserId") or None,
        payload_data(row.get("Payload") or ""),
        source,
        locator,
    )


def read(fobj: BinaryIO, source: str, stats: RunStats) -> Iterator[Event]:
    """Yield one Event per CSV row; a row that cannot be mapped is one counted skip (``bad record``)."""
    csv.field_size_limit(min(sys.maxsize, FIELD_LIMIT))
    text = io.TextIOWrapper(fobj, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text)
    line = 2
    while True:
        start = line
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            stats.skip(source, f"line {start}", "bad record", f"CSV: {exc}")
            line = reader.line_num + 1
            continue
        line = reader.line_num + 1
        where = f"line {start}"
        origin = row.get("SourceFile")
        if origin:
            where += f" ({origin} record {row.get('RecordNumber') or '?'})"
        try:
            ev = _row_event(row, source, where)
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
            stats.skip(source, where, "bad record", f"{type(exc).__name__}: {exc}")
            continue
        stats.records_read += 1
        yield ev
