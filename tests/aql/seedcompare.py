"""Shared by the seed-query and export tests: native alert rows vs AQL rows, column for column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from iisdetect.aql import Emulator, Options
from iisdetect.engine.detector import Detector
from iisdetect.engine.ir import CompiledRule
from iisdetect.hunting.alerts import SEED_COLUMNS, Alert
from iisdetect.model.event import Event


def native_rows(rules: Sequence[CompiledRule], events: Sequence[Event]) -> list[dict[str, Any]]:
    """One row per event that any rule matches, with the first matching rule's (rule order) columns."""
    det = Detector(rules)
    order = {r.id: i for i, r in enumerate(rules)}
    out = []
    for e in events:
        hits = det.match(e)
        if hits:
            first = min(hits, key=lambda r: order[r.id])
            row = {k: Alert(first, e).columns()[k] for k in SEED_COLUMNS}
            row["_starttime"] = e.time_created
            out.append(row)
    return out


def aql_rows(events: Sequence[Event], query: str, **kw: Any) -> list[dict[str, Any]]:
    opt_keys = {"backslash_escapes", "matches_search", "default_last_ms"}
    emu = Emulator(options=Options(**{k: v for k, v in kw.items() if k in opt_keys}),
                   **{k: v for k, v in kw.items() if k not in opt_keys})  # fmt: skip
    try:
        emu.load(events)
        r = emu.query(query)
    finally:
        emu.close()
    return [dict(zip(r.columns, row, strict=True)) for row in r.rows]


def as_counter(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r[c] for c in SEED_COLUMNS) for r in rows)
