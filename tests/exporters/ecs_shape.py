"""Events in the shape Elastic's ingest pipelines write (mapping/elastic.yaml), for the EQL/ES|QL tests.

The shape is MODELLED from the mapping file (so field names are not independently proven): what
running the emitted EQL over these documents proves is the boolean structure, variants, guards
under NOT, escaping, the Lucene regex translation and the special leaves (User split, SHA256),
not that a real cluster holds these fields. Pipeline behaviours modelled: Sysmon empty and "-"
values are dropped; ``Hashes`` becomes ``<file|process>.hash.sha256`` in lower case; ``User`` is split
into ``user.domain``/``user.name``; ``event.code`` is a string.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from iisdetect.engine import ir
from iisdetect.mapping.logsources import logsource_table
from iisdetect.mapping.targets import TargetMapping
from iisdetect.model.event import Event


@cache
def _variants() -> tuple[ir.Source, ...]:
    out: list[ir.Source] = []
    for variants in logsource_table().values():
        out.extend(v.source for v in variants if v.source not in out)
    return tuple(out)


def variant_of(e: Event) -> ir.Source | None:
    """The variant an event belongs to: explicit EventIDs first, then the channel's service variant."""
    chan = e.channel.lower()
    fits = [s for s in _variants() if chan in (c.lower() for c in s.channels)]
    for s in fits:
        if e.event_id in s.event_ids:
            return s
    return next((s for s in fits if not s.event_ids), None)


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            return
    node.setdefault(last, value)


def ecs_doc(e: Event, m: TargetMapping) -> dict[str, Any]:
    src = variant_of(e)
    doc: dict[str, Any] = {}
    ts = datetime.fromisoformat(e.time_created.replace("Z", "+00:00")) if e.time_created else None
    if ts:
        doc["@timestamp"] = ts.isoformat().replace("+00:00", "Z")
    _put(doc, "event.code", str(e.event_id))
    _put(doc, "winlog.channel", e.channel)
    _put(doc, "winlog.provider_name", e.provider)
    _put(doc, "winlog.computer_name", e.computer)
    if src is None:
        return doc
    drops = bool(m.setting(src, "drops_empty", False))
    for name, value in e.data.items():
        if drops and value in ("", "-"):
            continue
        path = m.field(src, name)
        if path is None:
            continue
        if path == "@user_split":
            dom, _, user = value.rpartition("\\")
            us = m.raw["user_split"]
            _put(doc, us["domain"], dom) if dom else None
            _put(doc, us["name"], user)
        elif path.startswith("@sha256:"):
            for part in value.split(","):
                k, _, v = part.partition("=")
                if k.strip().upper() == "SHA256":
                    _put(doc, path.split(":", 1)[1], v.strip().lower())
        else:
            _put(doc, path, value)
    return doc
