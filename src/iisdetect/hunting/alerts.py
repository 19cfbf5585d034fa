"""What a detection produces: an ``Alert`` (rule + event) and the record every output format writes.

The record (:func:`alert_record`) is the one shape json, ndjson, csv, timesketch and the docs share:

* the seed rule's SELECT columns (``event_time`` ... ``loaded_dll``), unchanged; field roles, event
  and log source names come from :mod:`iisdetect.mapping.fields`, which the AQL emulator reads too,
  so native and AQL rows compare column for column;
* where to find the event again: ``EventRecordID`` (the System value Event Viewer shows, never the
  EVTX record-header number), ``position`` (the file position: ``record N`` = the EVTX record header
  number, ``line N``, ``item N``, ``element N``), ``source_file`` and ``member`` (the path inside an
  archive, ``None`` outside one), plus ``Computer``/``Channel``/``Provider``;
* ``time``: ISO 8601 UTC with milliseconds and ``Z``;
* the rule: id, title, level (after correlation), the rule's own level, status, tags, ATT&CK ids;
* ``evidence``: the fields that matter for this kind of event (see :data:`EVIDENCE`), untruncated;
* ``event``: the whole event (System plus every EventData field), for json/ndjson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from iisdetect.engine.ir import CompiledRule
from iisdetect.guides import guide_id
from iisdetect.mapping.fields import event_name, first, log_source_name, role, seed_column_roles, user_name
from iisdetect.model import times
from iisdetect.model.event import Event

SEED_COLUMNS: tuple[str, ...] = (
    "event_time",
    "log_source",
    "username",
    "host_ip",
    "event_name",
    "EventID",
    "detection_type",
    "initiating_process",
    "CommandLine",
    "registry_key",
    "registry_value",
    "file_path",
    "loaded_dll",
)
EXTRA_COLUMNS: tuple[str, ...] = ("rule_id", "rule_title", "level", "Computer", "source", "record")
ALERT_COLUMNS: tuple[str, ...] = SEED_COLUMNS + EXTRA_COLUMNS

LEVELS: tuple[str, ...] = ("informational", "low", "medium", "high", "critical")

#: Evidence per kind of event: (output name, Windows field names tried in order, or the name of a
#: field role in mapping/fields.yaml). The kinds are the event types the rulesets read; anything
#: else has kind ``other`` and only the full ``event``.
EVIDENCE: dict[str, tuple[tuple[str, tuple[str, ...] | str], ...]] = {
    "iis_config": (
        ("config_path", ("ConfigPath",)),
        ("physical_path", ("PhysicalPath",)),
        ("configuration", ("Configuration",)),
        ("element", ()),  # derived from Configuration
        ("attribute", ()),  # derived from Configuration
        ("operation", ("EditOperationType",)),
        ("old_value", ("OldValue",)),
        ("new_value", ("NewValue",)),
    ),
    "script_block": (
        ("script_block_text", ("ScriptBlockText",)),
        ("script_block_id", ("ScriptBlockId",)),
        ("message_number", ("MessageNumber",)),
        ("message_total", ("MessageTotal",)),
        ("script_path", ("Path",)),
    ),
    "image_load": (
        ("image", "acting_process"),
        ("image_loaded", "loaded_dll"),
        ("signed", ("Signed",)),
        ("signature", ("Signature",)),
        ("signature_status", ("SignatureStatus",)),
        ("hashes", ("Hashes",)),
        ("original_file_name", ("OriginalFileName",)),
    ),
    "process_creation": (
        ("command_line", "command_line"),
        ("image", "acting_process"),
        ("parent_image", "parent_process"),
        ("parent_command_line", ("ParentCommandLine",)),
        ("user", "user"),
        ("integrity_level", ("IntegrityLevel", "MandatoryLabel")),
        ("hashes", ("Hashes",)),
    ),
    "file_write": (
        ("target_filename", "target_file"),
        ("image", "acting_process"),
        ("user", "user"),
    ),
    "registry": (
        ("target_object", ("TargetObject", "ObjectName")),
        ("details", ("Details", "NewValue")),
        ("event_type", ("EventType",)),
        ("image", "acting_process"),
        ("user", "user"),
    ),
    "other": (),
}
#: Every evidence name (the CSV's ``evidence.*`` columns), in a fixed order.
EVIDENCE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for spec in EVIDENCE.values() for name, _ in spec))

_SYSMON = "microsoft-windows-sysmon"
_KINDS_BY_ID: dict[tuple[str, int], str] = {
    (_SYSMON, 1): "process_creation",
    (_SYSMON, 7): "image_load",
    (_SYSMON, 11): "file_write",
    (_SYSMON, 12): "registry",
    (_SYSMON, 13): "registry",
    (_SYSMON, 14): "registry",
    ("security", 4688): "process_creation",
    ("security", 4663): "file_write",
    ("security", 4657): "registry",
    ("powershell", 4104): "script_block",
    ("iis", 29): "iis_config",
}
_ELEMENT = re.compile(r"^(?P<element>.*?)(?:/@(?P<attr>[^/\[\]]+))?$")
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.I)


def event_kind(event: Event) -> str:
    """Which evidence set applies: by provider/channel family and EventID."""
    prov = (event.provider or "").lower()
    chan = (event.channel or "").lower()
    if "sysmon" in prov or "sysmon" in chan:
        family = _SYSMON
    elif "powershell" in prov or "powershell" in chan:
        family = "powershell"
    elif "iis-configuration" in prov or "iis-configuration" in chan:
        family = "iis"
    elif chan == "security" or "security-auditing" in prov:
        family = "security"
    else:
        family = prov
    return _KINDS_BY_ID.get((family, event.event_id), "other")


def evidence_fields(event: Event) -> dict[str, Any]:
    """The per-kind evidence, every value whole (``None`` when the event lacks the field)."""
    kind = event_kind(event)
    d = event.data
    out: dict[str, Any] = {"kind": kind}
    for name, sources in EVIDENCE[kind]:
        fields = role(sources) if isinstance(sources, str) else sources
        if name == "user" and fields == role("user"):
            out[name] = first(event, "user")
            continue
        out[name] = next((d[s] for s in fields if d.get(s) not in (None, "")), None)
    if kind == "iis_config":
        m = _ELEMENT.match(d.get("Configuration") or "")
        out["element"] = (m.group("element") or None) if m else None
        out["attribute"] = m.group("attr") if m else None
    return out


def initiating_process(event: Event) -> str | None:
    return first(event, "acting_process")


def event_time(event: Event) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in UTC, as the seed's DATEFORMAT(starttime, ...) renders it."""
    t = event.time_created
    return f"{t[:10]} {t[11:19]}" if t else ""


def iso_ms(time_created: str) -> str | None:
    """``2024-05-01T10:00:00.123Z`` from the canonical microsecond form (None when the time is unknown)."""
    return times.iso_ms(time_created) if time_created else None


def split_source(source: str) -> tuple[str, str | None]:
    """``a.zip!b/c.evtx`` -> (``a.zip``, ``b/c.evtx``); a plain file has no member."""
    outer, sep, member = source.partition("!")
    return outer, (member if sep else None)


def seed_columns(event: Event, detection_type: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_time": event_time(event),
        "log_source": log_source_name(event),
        "username": user_name(event),
        "host_ip": None,
        "event_name": event_name(event),
        "EventID": str(event.event_id),
        "detection_type": detection_type,
    }
    for column, name in seed_column_roles().items():
        row[column] = first(event, name)
    return {c: row.get(c) for c in SEED_COLUMNS}


@cache
def _rule_docs(path: str) -> dict[str, dict]:
    """The Sigma documents of a rule file by id (and title), read once: status/logsource are not in the IR."""
    try:
        docs = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    out: dict[str, dict] = {}
    for doc in docs:
        if isinstance(doc, dict):
            for key in (doc.get("id"), doc.get("title")):
                if key:
                    out[str(key)] = doc
    return out


def rule_doc(rule: CompiledRule) -> dict:
    docs = _rule_docs(rule.path)
    return docs.get(rule.id) or docs.get(rule.title) or {}


def rule_status(rule: CompiledRule) -> str | None:
    """The Sigma ``status`` (stable, test, experimental...), or None when the rule has none."""
    status = rule_doc(rule).get("status")
    return str(status) if status else None


def attack_ids(tags: tuple[str, ...] | list[str]) -> list[str]:
    """ATT&CK technique ids of Sigma tags: ``attack.t1505.004`` -> ``T1505.004``."""
    out = []
    for t in tags:
        m = _TECHNIQUE.match(t)
        if m and m.group(1).upper() not in out:
            out.append(m.group(1).upper())
    return out


def _json_int(value: int | None) -> int | str | None:
    """A record id as JSON can carry it: a forged id beyond 64 bits is kept as its decimal text."""
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def event_document(event: Event) -> dict[str, Any]:
    """The whole event: System fields and every EventData field, as read."""
    return {
        "System": {
            "Provider_Name": event.provider,
            "Channel": event.channel,
            "EventID": event.event_id,
            "Computer": event.computer,
            "TimeCreated": event.time_created,
            "EventRecordID": _json_int(event.record_id),
            "UserID": event.user_sid,
        },
        "EventData": dict(event.data),
    }


@dataclass
class Alert:
    """One rule firing on one event. ``level`` starts as the rule's; correlation may raise it."""

    rule: CompiledRule
    event: Event
    level: str = ""
    incident: str | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.level:
            self.level = self.rule.level

    @property
    def detection_type(self) -> str:
        return self.rule.detection_type

    def columns(self) -> dict[str, Any]:
        """The seed columns plus the locating columns (what AQL comparisons and the table use)."""
        row = seed_columns(self.event, self.rule.detection_type)
        row.update(
            rule_id=self.rule.id,
            rule_title=self.rule.title,
            level=self.level,
            Computer=self.event.computer,
            source=self.event.source,
            record=self.event.locator,
        )
        return row


def alert_record(alert: Alert, *, with_event: bool = True) -> dict[str, Any]:
    """The record every machine-readable format writes (docs/output-formats.md, docs/schemas/)."""
    ev, rule = alert.event, alert.rule
    row = alert.columns()
    source_file, member = split_source(ev.source)
    row.update(
        time=iso_ms(ev.time_created),
        Channel=ev.channel,
        Provider=ev.provider,
        EventRecordID=_json_int(ev.record_id),
        position=ev.locator,
        source_file=source_file,
        member=member,
        rule_level=rule.level,
        status=rule_status(rule),
        tags=list(rule.tags),
        attack=attack_ids(rule.tags),
        ruleset=rule.ruleset,
        rule_file=rule.path,
        incident=alert.incident,
        notes=list(alert.notes),
        guide=guide_id(rule.detection_type),  # docs/playbook.md; the HTML report's Guides section
        evidence=evidence_fields(ev),
    )
    if with_event:
        row["event"] = event_document(ev)
    return row


def raise_level(level: str, steps: int = 1) -> str:
    """One (or more) step up the Sigma level scale, capped at critical."""
    idx = LEVELS.index(level) if level in LEVELS else 2
    return LEVELS[min(len(LEVELS) - 1, idx + steps)]
