"""The lake table, defined once (``mapping/lake.yaml``): Event <-> row, Arrow schema, partitions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml

from iisdetect.model.event import Event

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LakeSchema:
    system: dict[str, tuple[str, str]]  # column -> (Event attribute, arrow type)
    map_column: str
    max_wide_columns: int
    partitions: tuple[str, ...]
    batch_rows: int

    @property
    def reserved(self) -> frozenset[str]:
        """Names an EventData field may not take as a column of its own (case-insensitively)."""
        return frozenset(n.lower() for n in (*self.system, self.map_column, "day", "host"))

    def column_of(self, attribute: str) -> str:
        return next(col for col, (attr, _) in self.system.items() if attr == attribute)


@cache
def lake_schema() -> LakeSchema:
    raw: dict[str, Any] = yaml.safe_load(resources.files("iisdetect.mapping").joinpath("lake.yaml").read_text("utf-8"))
    return LakeSchema(
        system={str(k): (str(v[0]), str(v[1])) for k, v in raw["system"].items()},
        map_column=str(raw["map_column"]),
        max_wide_columns=int(raw["max_wide_columns"]),
        partitions=tuple(raw["partitions"]),
        batch_rows=int(raw["batch_rows"]),
    )


def wide_name(name: str, schema: LakeSchema) -> bool:
    """An EventData name that may also be a column: a plain identifier clear of the system columns."""
    return bool(_IDENT.match(name)) and name.lower() not in schema.reserved


def event_row(event: Event, schema: LakeSchema) -> dict[str, Any]:
    row: dict[str, Any] = {col: getattr(event, attr) for col, (attr, _) in schema.system.items()}
    row[schema.map_column] = event.data
    return row


def row_event(row: dict[str, Any], schema: LakeSchema) -> Event:
    """A row read back from DuckDB or Spark (system columns + the map) as the canonical Event."""
    kw = {attr: row.get(col) for col, (attr, _) in schema.system.items()}
    data = row.get(schema.map_column) or {}
    if not isinstance(data, dict):  # Spark may hand a list of (key, value) pairs
        data = dict(data)
    return Event(
        channel=kw["channel"] or "",
        provider=kw["provider"] or "",
        event_id=int(kw["event_id"] or 0),
        computer=kw["computer"] or "",
        time_created=kw["time_created"] or "",
        record_id=None if kw["record_id"] is None else int(kw["record_id"]),
        user_sid=kw["user_sid"],
        data={str(k): "" if v is None else str(v) for k, v in data.items()},
        source=kw["source"] or "",
        locator=kw["locator"] or "",
    )


def partition_dir(event: Event, partitions: tuple[str, ...]) -> str:
    """``day=2026-11-20[/host=WEB01]``: values percent-encoded, so no event field can name a path."""
    parts = []
    for key in partitions:
        if key == "day":
            day = event.time_created[:10]
            value = day if _DAY.match(day) else "unknown"
        elif key == "host":
            value = (event.computer or "unknown")[:128]
        else:
            raise ValueError(f"unknown partition key {key!r}")
        parts.append(f"{key}={quote(value, safe='')}")
    return "/".join(parts)
