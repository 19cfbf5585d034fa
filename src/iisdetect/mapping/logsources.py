"""Load ``mapping/logsources.yaml``: which Windows logs a Sigma logsource means, per variant."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from iisdetect.engine import ir


@dataclass(frozen=True)
class LogsourceVariant:
    """One concrete place (channel/provider + EventIDs) and its field renames."""

    name: str
    source: ir.Source
    fields: tuple[tuple[str, str], ...]
    conditions: tuple[tuple[str, tuple[str, ...]], ...]


@cache
def logsource_table() -> dict[str, tuple[LogsourceVariant, ...]]:
    text = resources.files("iisdetect.mapping").joinpath("logsources.yaml").read_text("utf-8")
    return parse_table(yaml.safe_load(text))


def parse_table(raw: dict[str, Any]) -> dict[str, tuple[LogsourceVariant, ...]]:
    sources = raw["sources"]
    table: dict[str, tuple[LogsourceVariant, ...]] = {}
    for key, variants in raw["logsources"].items():
        out = []
        for v in variants:
            src = sources[v["source"]]
            out.append(
                LogsourceVariant(
                    name=v["name"],
                    source=ir.Source(
                        name=v["name"],
                        channels=tuple(src.get("channels") or ()),
                        providers=tuple(src.get("providers") or ()),
                        event_ids=tuple(int(i) for i in v.get("event_ids") or ()),
                    ),
                    fields=tuple((v.get("fields") or {}).items()),
                    conditions=tuple(
                        (f, tuple(str(x) for x in vals)) for f, vals in (v.get("conditions") or {}).items()
                    ),
                )
            )
        table[key] = tuple(out)
    return table


def logsource_key(category: str | None, service: str | None, product: str | None) -> str | None:
    """Key into the table for a rule's logsource; ``None`` when we know no such Windows log."""
    if product not in (None, "windows"):
        return None
    if category:
        return category
    if service:
        return f"service:{service}"
    return None
