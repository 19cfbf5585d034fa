"""Write simulated events exactly as the real export tools do: evtx-json, xml, ecs, ndjson.

Why byte-level fidelity matters: the readers are tested against these files; if the simulator wrote
a friendlier shape than pyevtx, wevtutil, Winlogbeat or NXLog, the readers would pass tests and
fail on real data. Every value is encoded by a serialiser (orjson) or escaped for XML: attacker
text (command lines, script blocks, paths) is data, never markup.

GUID-typed EventData values (names ending in ``Guid``/``GUID``) are written bare in evtx-json, as
the Rust parser renders them (``"ProcessGuid":"747F3D96-D6EB-5D31-0000-0010E0252500"`` in the
corpus's ``PanacheSysmon_vs_AtomicRedTeam01.evtx``), and in braces in XML and ECS, as Windows writes
them; the evtx-json reader puts the braces back (``readers/evtx_json.py``). One deliberate deviation,
documented in docs/scenarios.md: XML-1.0 control characters are replaced by U+FFFD (wevtutil would
emit unparsable XML).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import IO

import orjson

from iisdetect.simulate.model import SimEvent, digest

FORMATS: dict[str, str] = {"evtx-json": "evtx.jsonl", "xml": "xml", "ecs": "ecs.jsonl", "ndjson": "ndjson"}
_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


def sequence(events: Iterable[SimEvent]) -> Iterator[SimEvent]:
    """Give each record its EventRecordID: increasing per (computer, channel), as each log does."""
    counters: dict[tuple[str, str], int] = {}
    for sim in events:
        ev = sim.event
        key = (ev.computer, ev.channel)
        if key not in counters:
            counters[key] = 1000 + int.from_bytes(digest("rec", *key)[:3], "big") % 500000
        counters[key] += 1
        ev.record_id = counters[key]
        yield sim


def _data_value(sim: SimEvent, name: str, value: str) -> object:
    if name in sim.int_fields and value.isdigit():
        return int(value)
    if name[-4:] in ("Guid", "GUID") and len(value) == 38 and value[0] == "{" and value[-1] == "}":
        return value[1:-1]  # pyevtx renders a GUID-typed value without braces
    return value


def evtx_json(sim: SimEvent) -> bytes:
    """pyevtx ``records_json()`` / ``evtx_dump -o jsonl`` shape, one record per line."""
    ev, sy = sim.event, sim.system
    provider = {"Name": ev.provider}
    if sy.provider.guid:
        provider["Guid"] = sy.provider.guid.strip("{}")
    event_id: object = ev.event_id
    if sy.qualifiers is not None:
        event_id = {"#attributes": {"Qualifiers": sy.qualifiers}, "#text": ev.event_id}
    system = {
        "Provider": {"#attributes": provider},
        "EventID": event_id,
        "Version": sy.version,
        "Level": sy.level,
        "Task": sy.task,
        "Opcode": sy.opcode,
        "Keywords": sy.keywords,
        "TimeCreated": {"#attributes": {"SystemTime": ev.time_created}},
        "EventRecordID": ev.record_id,
        "Correlation": None,
        "Execution": {"#attributes": {"ProcessID": sy.provider.exec_pid, "ThreadID": sy.thread_id}},
        "Channel": ev.channel,
        "Computer": ev.computer,
        "Security": {"#attributes": {"UserID": ev.user_sid}} if ev.user_sid else None,
    }
    data = {k: _data_value(sim, k, v) for k, v in ev.data.items()}
    return orjson.dumps({"Event": {"#attributes": {"xmlns": _NS}, "System": system, "EventData": data}}) + b"\n"


def _t(value: str) -> str:
    """Escape element text. ``str.replace`` chains are several times faster than ``translate``."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if not value.isprintable():  # CR must survive XML end-of-line normalisation
        value = _CTRL.sub("\ufffd", value).replace("\r", "&#13;")
    return value


@lru_cache(maxsize=4096)
def _a(value: str) -> str:
    """Escape a single-quoted attribute value (names and ids repeat: cached)."""
    return _CTRL.sub("\ufffd", value).translate(_ATTR)


def xml(sim: SimEvent) -> bytes:
    """``wevtutil qe /f:xml`` shape (single-quoted attributes, 7-digit SystemTime), one per line."""
    ev, sy = sim.event, sim.system
    guid = f" Guid='{_a(sy.provider.guid or '')}'" if sy.provider.guid else ""
    qual = f" Qualifiers='{sy.qualifiers}'" if sy.qualifiers is not None else ""
    stamp = ev.time_created[:-1] + "0Z" if ev.time_created else ""
    sec = f"<Security UserID='{_a(ev.user_sid or '')}'/>" if ev.user_sid else "<Security/>"
    parts = [
        f"<Event xmlns='{_NS}'><System><Provider Name='{_a(ev.provider)}'{guid}/>",
        f"<EventID{qual}>{ev.event_id}</EventID><Version>{sy.version}</Version><Level>{sy.level}</Level>",
        f"<Task>{sy.task}</Task><Opcode>{sy.opcode}</Opcode><Keywords>{sy.keywords}</Keywords>",
        f"<TimeCreated SystemTime='{stamp}'/><EventRecordID>{ev.record_id}</EventRecordID><Correlation/>",
        f"<Execution ProcessID='{sy.provider.exec_pid}' ThreadID='{sy.thread_id}'/>",
        f"<Channel>{_t(ev.channel)}</Channel><Computer>{_t(ev.computer)}</Computer>{sec}</System><EventData>",
    ]
    for name, value in ev.data.items():
        parts.append(f"<Data Name='{_a(name)}'>{_t(value)}</Data>" if value != "" else f"<Data Name='{_a(name)}'/>")
    parts.append("</EventData></Event>\n")
    return "".join(parts).encode("utf-8")


_LEVELS = {0: "information", 1: "critical", 2: "error", 3: "warning", 4: "information", 5: "verbose"}


def ecs(sim: SimEvent) -> bytes:
    """Winlogbeat 8 document (``winlog.*`` plus ECS ``event.code``/``host.name``), one per line."""
    ev, sy = sim.event, sim.system
    winlog: dict[str, object] = {
        "api": "wineventlog",
        "channel": ev.channel,
        "computer_name": ev.computer,
        "event_id": str(ev.event_id),
        "provider_name": ev.provider,
        "record_id": ev.record_id,
        "process": {"pid": sy.provider.exec_pid, "thread": {"id": sy.thread_id}},
        "version": sy.version,
        "event_data": ev.data,
    }
    if sy.provider.guid:
        winlog["provider_guid"] = sy.provider.guid
    if ev.user_sid:
        winlog["user"] = {"identifier": ev.user_sid}
    doc = {
        "@timestamp": ev.time_created[:23] + "Z",
        "agent": {"type": "winlogbeat", "version": "8.13.2"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(ev.event_id), "provider": ev.provider, "kind": "event"},
        "host": {"name": ev.computer.split(".")[0].lower()},
        "log": {"level": _LEVELS.get(sy.level, "information")},
        "winlog": winlog,
    }
    return orjson.dumps(doc) + b"\n"


def ndjson(sim: SimEvent) -> bytes:
    """NXLog ``to_json()`` / OTRF flat shape: System keys and EventData side by side."""
    ev, sy = sim.event, sim.system
    doc: dict[str, object] = {
        "SourceName": ev.provider,
        "ProviderGuid": sy.provider.guid,
        "Level": str(sy.level),
        "Keywords": sy.keywords,
        "Channel": ev.channel,
        "Hostname": ev.computer,
        "TimeCreated": ev.time_created[:23] + "Z",
        "EventID": ev.event_id,
        "RecordNumber": ev.record_id,
        "Task": str(sy.task),
    }
    if not sy.provider.guid:
        del doc["ProviderGuid"]
    if ev.user_sid:
        doc["UserID"] = ev.user_sid
    for name in ev.data:
        doc.pop(name, None)  # EventData wins over a same-named System key, as in NXLog
    doc.update(ev.data)
    return orjson.dumps(doc) + b"\n"


RENDER = {"evtx-json": evtx_json, "xml": xml, "ecs": ecs, "ndjson": ndjson}


def write(
    events: Iterable[SimEvent], fmt: str, out: IO[bytes], on_event: Callable[[SimEvent], None] | None = None
) -> int:
    """Sequence and write ``events`` (streamed; nothing is kept) and return how many were written.

    ``on_event`` sees each event after it got its record id (the CLI writes the truth file with it).
    """
    render = RENDER[fmt]
    n = 0
    buf: list[bytes] = []
    for sim in sequence(events):
        buf.append(render(sim))
        if on_event is not None:
            on_event(sim)
        n += 1
        if len(buf) >= 4096:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))
    return n
