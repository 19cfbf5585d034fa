"""Audit findings as ``hunt`` alerts: same class, same columns, same JSON/NDJSON/CSV writers.

Each check in ``checks.yaml`` becomes a ``CompiledRule`` without variants (nothing is matched against
events); a finding is an ``AuditAlert`` whose synthetic event says where the entry was written: ``source``
is the configuration file, ``record`` the XPath, ``file_path`` the file's path on the server and
``loaded_dll`` the DLL or executable the entry makes w3wp.exe load. Audit-only fields (entry kind, name,
type, preCondition, location, verdict, history, DLL triage) are extra keys in JSON/NDJSON; CSV keeps the
shared column set and carries the reasons in ``notes``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from iisdetect.audit.entries import Entry
from iisdetect.engine.ir import CompiledRule
from iisdetect.hunting.alerts import LEVELS, Alert, event_time
from iisdetect.model.event import Event

CHANNEL = "IIS configuration"
PROVIDER = "iisdetect audit"


@functools.cache
def checks() -> dict[str, CompiledRule]:
    text = resources.files("iisdetect.audit").joinpath("checks.yaml").read_text("utf-8")
    out = {}
    for c in yaml.safe_load(text)["checks"]:
        out[c["id"]] = CompiledRule(
            id=c["id"],
            title=c["title"],
            level=c["level"],
            detection_type=c["detection_type"],
            description=c["description"],
            path="iisdetect/audit/checks.yaml",
            tags=("attack.persistence", "attack.t1505.004"),
            falsepositives=(),
            variants=(),
            ruleset="audit",
        )
    return out


def max_level(levels: list[str]) -> str:
    return max(levels, key=LEVELS.index) if levels else "informational"


@dataclass
class AuditAlert(Alert):
    """An ``Alert`` whose evidence is a configuration entry (or a DLL), not an event record."""

    info: dict[str, Any] = field(default_factory=dict)
    event_name: str = "IIS configuration entry"

    def columns(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "event_time": event_time(self.event),
            "log_source": f"{self.info.get('config_kind') or 'package'} @ {self.event.computer}",
            "username": None,
            "host_ip": None,
            "event_name": self.event_name,
            "EventID": "",
            "detection_type": self.rule.detection_type,
            "initiating_process": None,
            "CommandLine": None,
            "registry_key": None,
            "registry_value": None,
            "file_path": self.info.get("windows_config") or self.event.source,
            "loaded_dll": self.info.get("resolved") or None,
            "rule_id": self.rule.id,
            "rule_title": self.rule.title,
            "level": self.level,
            "Computer": self.event.computer,
            "source": self.event.source,
            "record": self.event.locator,
        }
        row.update({k: v for k, v in self.info.items() if k not in row})
        return row


def entry_info(entry: Entry, config_kind: str, verdict: str = "") -> dict[str, Any]:
    return {
        "config_kind": config_kind,
        "entry_kind": entry.kind,
        "name": entry.name,
        "image": entry.image,
        "managed_type": entry.type,
        "precondition": entry.precondition,
        "location": entry.location,
        "resolved": entry.resolved,
        "bitness": entry.bitness,
        "iis_express": entry.iis_express,
        "windows_config": entry.windows_config,
        "xpath": entry.xpath,
        "snapshot": entry.snapshot or "live",
        "verdict": verdict,
    }


def make(
    check_id: str,
    host: str,
    time: str,
    source: str,
    locator: str,
    info: dict[str, Any],
    notes: list[str],
    level: str = "",
    event_name: str = "IIS configuration entry",
) -> AuditAlert:
    rule = checks()[check_id]
    event = Event(CHANNEL, PROVIDER, 0, host, time, None, None, {}, source=source, locator=locator)
    return AuditAlert(rule=rule, event=event, level=level or rule.level, notes=notes, info=info, event_name=event_name)
