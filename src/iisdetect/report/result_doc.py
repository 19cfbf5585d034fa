"""The ONE place that reads a hunt's JSON document (``hunt --format json``) for the investigation report.

Why one adapter: the JSON shape is owned by the hunt output and will grow (the whole event under
``event``, the true ``record_id``, ``time`` in ISO milliseconds, the ``guide`` id). Everything the report
needs goes through :func:`read_doc`, which takes those keys when present and falls back to today's flat
alert columns (``event_time``, ``record``, the seed columns), so a change of shape is a fix here only.

The document is untrusted input (``iisdetect report RESULT.json``): a wrong shape is a one-line
``UsageError``; values are kept as data (strings), never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from iisdetect.errors import UsageError
from iisdetect.guides import guide_id

#: flat alert columns that say what happened, in the order the evidence line prefers them
_EVIDENCE_COLUMNS = ("loaded_dll", "file_path", "registry_key", "CommandLine")


@dataclass
class AlertView:
    time: str
    host: str
    detection_type: str
    level: str
    rule_id: str
    rule_title: str
    source: str
    record: str
    event_id: str
    incident: str
    notes: str
    evidence: str
    guide: str | None
    event: dict[str, Any]  #: the whole event when the JSON carries it, else the alert's columns
    suppressed_by: str = ""
    full_event: bool = False


@dataclass
class IncidentView:
    id: str
    host: str
    level: str
    first: str
    last: str
    module: str
    summary: str
    alerts: list[AlertView]


@dataclass
class RunDoc:
    incidents: list[IncidentView]
    loose: list[AlertView]  #: alerts not grouped into incidents (``--no-correlate``)
    suppressed: list[AlertView]
    summary: dict[str, Any]
    reasons: dict[str, str] = field(default_factory=dict)  #: tuning entry name -> its ``reason``

    def alerts(self) -> list[AlertView]:
        return [a for i in self.incidents for a in i.alerts] + self.loose


def _s(value: Any) -> str:
    if value is None:
        return ""
    return (
        value
        if isinstance(value, str)
        else orjson.dumps(value).decode()
        if isinstance(value, dict | list)
        else str(value)
    )


def _event_data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("EventData")
    return data if isinstance(data, dict) else event


def _evidence(row: dict[str, Any], event: dict[str, Any] | None) -> str:
    """What was loaded, written, set or run: the alert columns first, then the full event's fields."""
    data = _event_data(event) if event else {}
    if row.get("registry_key"):
        return f"{_s(row['registry_key'])} = {_s(row.get('registry_value'))}"
    for col in _EVIDENCE_COLUMNS:
        if row.get(col):
            return _s(row[col])
    if data.get("Configuration"):
        new, old = _s(data.get("NewValue")), _s(data.get("OldValue"))
        return f"{_s(data['Configuration'])} = {new}" if new else f"{_s(data['Configuration'])} (was {old})"
    for key in ("ScriptBlockText", "ModuleDll", "ImageLoaded", "TargetFilename", "CommandLine"):
        if data.get(key):
            return _s(data[key])
    return _s(row.get("initiating_process")) or _s(row.get("rule_title"))


def _alert(row: Any, where: str) -> AlertView:
    if not isinstance(row, dict):
        raise UsageError(f"{where}: an alert must be an object")
    event = row.get("event") if isinstance(row.get("event"), dict) else None
    dtype = _s(row.get("detection_type"))
    return AlertView(
        time=_s(row.get("time") or row.get("event_time")),
        host=_s(row.get("Computer") or (event or {}).get("Computer")),
        detection_type=dtype,
        level=_s(row.get("level")) or "medium",
        rule_id=_s(row.get("rule_id")),
        rule_title=_s(row.get("rule_title")),
        source=_s(row.get("source")),
        record=_s(row.get("record_id") if row.get("record_id") is not None else row.get("record")),
        event_id=_s(row.get("EventID") or (event or {}).get("EventID")),
        incident=_s(row.get("incident")),
        notes=_s(row.get("notes")),
        evidence=_evidence(row, event),
        guide=_s(row.get("guide")) or guide_id(dtype),
        event=event if event is not None else {k: v for k, v in row.items() if v not in (None, "")},
        suppressed_by=_s(row.get("suppressed_by")),
        full_event=event is not None,
    )


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise UsageError(f"hunt JSON: {key!r} must be a list")
    return value


def from_dict(doc: Any, reasons: dict[str, str] | None = None) -> RunDoc:
    if not isinstance(doc, dict) or not isinstance(doc.get("summary"), dict):
        raise UsageError("not a hunt JSON document (expected an object with 'summary'; run hunt --format json)")
    # alerts are listed once at the top level, each naming its incident (docs/output-formats.md);
    # older documents nested them under their incident: both shapes are read
    by_incident: dict[str, list[AlertView]] = {}
    loose: list[AlertView] = []
    for i, a in enumerate(_list(doc, "alerts")):
        view = _alert(a, f"alerts[{i}]")
        iid = a.get("incident") if isinstance(a, dict) else None
        if iid:
            by_incident.setdefault(str(iid), []).append(view)
        else:
            loose.append(view)
    incidents = []
    for n, inc in enumerate(_list(doc, "incidents")):
        if not isinstance(inc, dict):
            raise UsageError(f"hunt JSON: incidents[{n}] must be an object")
        alerts = [_alert(a, f"incidents[{n}].alerts[{i}]") for i, a in enumerate(inc.get("alerts") or [])]
        alerts = alerts or by_incident.pop(_s(inc.get("incident")), [])
        incidents.append(
            IncidentView(
                id=_s(inc.get("incident")),
                host=_s(inc.get("host")),
                level=_s(inc.get("level")) or "medium",
                first=_s(inc.get("first")),
                last=_s(inc.get("last")),
                module=_s(inc.get("module")),
                summary=_s(inc.get("summary")),
                alerts=alerts,
            )
        )
    loose.extend(a for views in by_incident.values() for a in views)  # an incident id with no incident object
    suppressed = [_alert(a, f"suppressed[{i}]") for i, a in enumerate(_list(doc, "suppressed"))]
    return RunDoc(incidents, loose, suppressed, doc["summary"], dict(reasons or {}))


def read_doc(path: str | Path, reasons: dict[str, str] | None = None) -> RunDoc:
    """Load ``RESULT.json``; a missing, unreadable or non-hunt file is a one-line error."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from None
    return from_dict(doc, reasons)
