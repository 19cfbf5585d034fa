"""Per-SIEM mappings as data: ``mapping/<target>.yaml`` (splunk, elastic, sentinel, xdr).

Why one file per target: where a Windows field lives differs per SIEM and per log-source variant
(Sysmon 7's ``ImageLoaded`` and Sysmon 11's ``TargetFilename`` are both ``file.path`` in ECS; XDR
has one table per event kind), and those facts must be readable and overridable without code.

Shape shared by every file (target-specific keys are read by the renderer that owns the file)::

    limits: {query_chars: N, regex_chars: N}   # 0 = no known limit
    fields: {Canonical: expression}            # every variant
    field_template: "{field}"                  # unlisted fields; null = unlisted fields are absent
    sources:                                   # by Windows channel (logsources.yaml ``sources``)
      <channel>: {fields: {...}, field_template: ..., columns: [...], <target keys>}
    variants:                                  # by variant name (logsources.yaml ``logsources``)
      <name>: {fields: {...}, <target keys>}

A field maps to ``null`` when the target has no such data: its tests are false (their NOT
holds) and the export lists it on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from iisdetect.engine import ir
from iisdetect.errors import UsageError
from iisdetect.model.userfiles import read_yaml

TARGET_FILES = ("splunk", "elastic", "sentinel", "xdr")
_ABSENT = object()


@dataclass(frozen=True)
class TargetMapping:
    name: str
    raw: dict[str, Any]

    @property
    def limits(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in (self.raw.get("limits") or {}).items()}

    def source_entry(self, src: ir.Source) -> dict[str, Any] | None:
        """The ``sources`` entry of the variant's first channel that the file lists, else None."""
        table = {str(k).lower(): v for k, v in (self.raw.get("sources") or {}).items()}
        for ch in src.channels:
            if ch.lower() in table:
                return table[ch.lower()] or {}
        return None

    def variant_entry(self, src: ir.Source) -> dict[str, Any]:
        return (self.raw.get("variants") or {}).get(src.name) or {}

    def setting(self, src: ir.Source, key: str, default: Any = None) -> Any:
        """A target key from the variant, else its source, else the top level."""
        for layer in (self.variant_entry(src), self.source_entry(src) or {}, self.raw):
            if key in layer:
                return layer[key]
        return default

    def field(self, src: ir.Source, name: str) -> str | None:
        """The target expression for a canonical field in this variant; None when the target lacks it."""
        sentry = self.source_entry(src) or {}
        for layer in (self.variant_entry(src), sentry, self.raw):
            fields = layer.get("fields") or {}
            if name in fields:
                value = fields[name]
                return None if value is None else str(value)
        for layer in (sentry, self.raw):
            if "field_template" in layer:
                tmpl = layer["field_template"]
                cols = layer.get("columns")
                if tmpl is None or (cols is not None and name not in cols):
                    return None
                return str(tmpl).format(field=name)
        return None


def field_source(src: ir.Source, condition: ir.Node) -> ir.Source:
    """The variant whose field map applies: ``src`` itself, or for a service variant (no EventIDs,
    the rule names ``EventID: 13``) the category variant of that channel holding those EventIDs,
    because the target's field shape depends on the event (ECS: Sysmon 13's ``TargetObject`` is
    ``registry.path``), not on how the rule chose its logsource."""
    if src.event_ids:
        return src
    from iisdetect.engine.evaluate import lift_event_ids
    from iisdetect.mapping.logsources import logsource_table

    ids = set(lift_event_ids(condition))
    if not ids:
        return src
    chans = {c.lower() for c in src.channels}
    best: ir.Source | None = None
    for variants in logsource_table().values():
        for v in variants:
            s = v.source
            if (
                chans & {c.lower() for c in s.channels}
                and ids <= set(s.event_ids)
                and (best is None or len(s.event_ids) < len(best.event_ids))
            ):
                best = s
    return best or src


@cache
def _bundled(name: str) -> dict[str, Any]:
    text = resources.files("iisdetect.mapping").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_target_mapping(name: str, path: str | Path | None = None) -> TargetMapping:
    """The bundled ``mapping/<name>.yaml``, with a user file's top-level keys laid over it."""
    raw = dict(_bundled(name))
    if path is not None:
        user = read_yaml(path, f"{name} mapping") or {}
        if not isinstance(user, dict):
            raise UsageError(f"{name} mapping {path}: expected a mapping at top level")
        raw.update(user)
    return TargetMapping(name, raw)
