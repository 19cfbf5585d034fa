"""The QRadar view of Windows events, as data: ``iisdetect/mapping/qradar.yaml``.

This module only loads and merges the file; :mod:`iisdetect.aql.table` builds the emulator's
``events`` table from it and :mod:`iisdetect.exporters.qradar` uses it to name properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from iisdetect.errors import UsageError
from iisdetect.mapping.fields import log_source_template, role, seed_column_roles
from iisdetect.model.userfiles import read_yaml

PAYLOAD_FORMATS = ("wincollect", "xml", "json")


@dataclass(frozen=True)
class QRadarMapping:
    properties: dict[str, tuple[str, ...]]  # Windows name -> IBM property names
    columns: dict[str, tuple[str, ...]]  # QRadar column -> Windows fields (first non-empty)
    windows_fields: tuple[str, ...]
    devicetypes: dict[int, str]
    known_devicetypes: frozenset[int]  # every IBM log source type id (lint)
    default_devicetype: int
    sysmon_channels: tuple[str, ...]
    log_source_name: str
    first_log_source_id: int
    qids: dict[tuple[str, int], tuple[int, int]]  # (provider lower, eid) -> qid, category
    synthetic_qid_base: int
    default_category: int
    categories: dict[int, tuple[str, int]]
    high_level_categories: dict[int, str]
    event_fields: dict[str, str | None]  # QRadar event column -> Windows field that fills it (or None)
    emulator_payload: str
    export: dict[str, Any]

    def ibm_sources(self) -> dict[str, tuple[str, ...]]:
        """IBM property -> the Windows fields that fill it, in priority order."""
        out: dict[str, list[str]] = {}
        for win, names in self.properties.items():
            for name in names:
                out.setdefault(name, []).append(win)
        return {k: tuple(v) for k, v in out.items()}

    def known_windows_fields(self) -> tuple[str, ...]:
        seen = dict.fromkeys([*self.windows_fields, *self.properties])
        for fields in self.columns.values():
            seen.update(dict.fromkeys(fields))
        return tuple(k for k in seen if k != "EventID")

    def export_columns(self) -> dict[str, str]:
        """The seed's output column -> the Windows field the export selects (its role's first field).

        Derived from ``mapping/fields.yaml``, so hunt's columns and the export's cannot drift; the
        property map above sends the role's other fields (NewProcessName...) to the same IBM property.
        """
        return {col: role(name)[0] for col, name in seed_column_roles().items()}

    def ibm_name(self, windows_field: str) -> str:
        """The property an export uses for a Windows field: its first IBM name, else itself."""
        names = self.properties.get(windows_field)
        return names[0] if names else windows_field


#: libyaml's loader when PyYAML was built with it: the bundled file (420 log source type names) parses
#: in ~4 ms with it, ~40 ms with the pure-Python SafeLoader, and the emulator reads it at every start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _raw_default() -> dict[str, Any]:
    text = resources.files("iisdetect.mapping").joinpath("qradar.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)  # a safe loader either way


def _build(raw: dict[str, Any]) -> QRadarMapping:
    def tup(v: Any) -> tuple[str, ...]:
        return tuple(str(x) for x in ([v] if isinstance(v, str) else (v or [])))

    try:
        out = QRadarMapping(
            properties={str(k): tup(v) for k, v in raw["properties"].items()},
            columns={str(k): tup(v) for k, v in raw["columns"].items()},
            windows_fields=tup(raw.get("windows_fields")),
            devicetypes={int(k): str(v) for k, v in raw["devicetypes"].items()},
            known_devicetypes=_id_ranges(str(raw.get("known_devicetypes", ""))) | {int(k) for k in raw["devicetypes"]},
            default_devicetype=int(raw["default_devicetype"]),
            sysmon_channels=tup(raw["sysmon_channels"]),
            log_source_name=str(raw.get("log_source_name") or log_source_template()),
            first_log_source_id=int(raw["first_log_source_id"]),
            qids={
                (str(q["provider"]).lower(), int(q["event_id"])): (int(q["qid"]), int(q["category"]))
                for q in raw["qids"]
            },
            synthetic_qid_base=int(raw["synthetic_qid_base"]),
            default_category=int(raw["default_category"]),
            categories={int(k): (str(v["name"]), int(v["high"])) for k, v in raw["categories"].items()},
            high_level_categories={int(k): str(v) for k, v in raw["high_level_categories"].items()},
            event_fields={str(k): (None if v is None else str(v)) for k, v in (raw.get("event_fields") or {}).items()},
            emulator_payload=str(raw.get("emulator_payload", "wincollect")),
            export=dict(raw["export"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"QRadar mapping is malformed: {exc!r}") from exc
    if out.emulator_payload not in PAYLOAD_FORMATS:
        raise UsageError(f"QRadar mapping: emulator_payload must be one of {', '.join(PAYLOAD_FORMATS)}")
    return out


def _id_ranges(text: str) -> frozenset[int]:
    """``"2-26, 28, 4000-4002"`` -> the ids."""
    out: set[int] = set()
    for part in text.replace("\n", " ").split(","):
        part = part.strip()
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(out)


@cache
def _default() -> QRadarMapping:
    return _build(_raw_default())


def load_mapping(path: str | Path | None = None) -> QRadarMapping:
    """The bundled mapping, or the bundled one with a user file's top-level keys laid over it."""
    if path is None:
        return _default()
    user = read_yaml(path, "QRadar mapping") or {}
    if not isinstance(user, dict):
        raise UsageError(f"QRadar mapping {path}: expected a mapping at top level")
    raw = _raw_default()
    raw.update(user)
    return _build(raw)
