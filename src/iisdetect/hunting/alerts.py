"""What a detection produces: an ``Alert`` (rule + event) and its output columns.

The column set is the seed rule's SELECT list (event_time, log_source, username, host_ip,
event_name, EventID, detection_type, initiating_process, CommandLine, registry_key,
registry_value, file_path, loaded_dll) plus what an analyst needs to find the record again
(rule id/title, level, Computer, source file, record id). Field roles, event and log source names come from
:mod:`iisdetect.mapping.fields`, which the AQL emulator reads too, so native and AQL rows compare column for column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iisdetect.engine.ir import CompiledRule
from iisdetect.mapping.fields import event_name, first, log_source_name, seed_column_roles, user_name
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


def initiating_process(event: Event) -> str | None:
    return first(event, "acting_process")


def event_time(event: Event) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in UTC, as the seed's DATEFORMAT(starttime, ...) renders it."""
    t = event.time_created
    return f"{t[:10]} {t[11:19]}" if t else ""


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


def raise_level(level: str, steps: int = 1) -> str:
    """One (or more) step up the Sigma level scale, capped at critical."""
    idx = LEVELS.index(level) if level in LEVELS else 2
    return LEVELS[min(len(LEVELS) - 1, idx + steps)]
