"""Maintenance windows for tuning entries, compiled into IR tests on the ``TimeCreated`` string.

Why regexes on the ISO string: every target (the Python engine, DuckDB, AQL via DATEFORMAT) can test
a string against a regex, while date arithmetic differs per SIEM. Canonical times are
``YYYY-MM-DDTHH:MM:SS.ffffffZ``, so ``>=`` on a fixed-width prefix is a regex over digits; weekly
windows are expanded into explicit dates within the entry's own range or a default horizon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from iisdetect.engine import ir
from iisdetect.errors import UsageError
from iisdetect.model.times import format_iso, to_datetime

DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DEFAULT_HORIZON = (date(2020, 1, 1), date(2039, 12, 31))
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def ge_regex(bound: str) -> str:
    """Regex body matching strings whose prefix of ``len(bound)`` chars is >= ``bound`` (digits vary)."""
    alts = []
    for i, ch in enumerate(bound):
        if ch.isdigit() and ch != "9":
            alts.append(f"{re.escape(bound[:i])}[{int(ch) + 1}-9]")
    alts.append(re.escape(bound))
    return "(?:" + "|".join(alts) + ")"


def time_at_least(iso: str) -> ir.Node:
    """``TimeCreated >= iso`` (second precision) as a regex on the canonical ISO string."""
    return ir.Regex("TimeCreated", "^" + ge_regex(iso))


def _parse_instant(value: Any, label: str) -> datetime:
    """A window bound as a naive UTC datetime (the regexes below compare canonical UTC strings)."""
    return to_datetime(value, label).replace(tzinfo=None)


def _iso(dt: datetime) -> str:
    return format_iso(dt, 0)[:-1]


def _range(lo: datetime | None, hi: datetime | None) -> ir.Node:
    parts: list[ir.Node] = []
    if lo is not None:
        parts.append(time_at_least(_iso(lo)))
    if hi is not None:
        parts.append(ir.Not(time_at_least(_iso(hi))))
    return parts[0] if len(parts) == 1 else ir.And(tuple(parts))


def windows_node(value: Any, label: str) -> ir.Node:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise UsageError(f"{label}: empty list")
    nodes = []
    for i, w in enumerate(items):
        wl = f"{label}, window #{i + 1}"
        if not isinstance(w, dict):
            raise UsageError(f"{wl}: expected a mapping with from/to and/or days/start/end")
        unknown = sorted(set(w) - {"from", "to", "days", "start", "end"})
        if unknown:
            raise UsageError(f"{wl}: unknown key {unknown[0]!r} (allowed: from, to, days, start, end)")
        lo = _parse_instant(w["from"], f"{wl}, 'from'") if "from" in w else None
        hi = _parse_instant(w["to"], f"{wl}, 'to'") if "to" in w else None
        if lo and hi and hi <= lo:
            raise UsageError(f"{wl}: 'to' must be after 'from'")
        weekly = {"days", "start", "end"} & set(w)
        if not weekly:
            if lo is None and hi is None:
                raise UsageError(f"{wl}: give from/to and/or days/start/end")
            nodes.append(_range(lo, hi))
            continue
        if weekly != {"days", "start", "end"}:
            raise UsageError(f"{wl}: a weekly window needs days, start and end")
        node = _weekly(w, wl, lo, hi)
        if lo is not None or hi is not None:
            node = ir.And((node, _range(lo, hi)))
        nodes.append(node)
    return ir.any_of(nodes)


def _hhmm(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise UsageError(f'{label}: {value!r} is not a UTC time HH:MM (quote it in YAML: "22:00")')
    return value


def _weekly(w: dict[str, Any], label: str, lo: datetime | None, hi: datetime | None) -> ir.Node:
    days = w["days"] if isinstance(w["days"], list) else [w["days"]]
    wanted = set()
    for d in days:
        key = str(d).lower()[:3]
        if key not in DAYS:
            raise UsageError(f"{label}, 'days': {d!r} is not a weekday (mon..sun)")
        wanted.add(DAYS[key])
    start = _hhmm(w["start"], f"{label}, 'start'")
    end = _hhmm(w["end"], f"{label}, 'end'")
    first = (lo.date() if lo else DEFAULT_HORIZON[0]) - timedelta(days=1)
    last = hi.date() if hi else DEFAULT_HORIZON[1]
    start_days = [d for d in _dates(first, last) if d.weekday() in wanted]
    tod = r"^.{10}T"
    if end > start:  # same day: start <= time < end
        return ir.And(
            (
                _date_node(start_days),
                ir.Regex("TimeCreated", tod + ge_regex(start)),
                ir.Not(ir.Regex("TimeCreated", tod + ge_regex(end))),
            )
        )
    # crosses midnight: (start day, time >= start) or (next day, time < end)
    late = ir.And((_date_node(start_days), ir.Regex("TimeCreated", tod + ge_regex(start))))
    if end == "00:00":
        return late
    early = ir.And(
        (
            _date_node([d + timedelta(days=1) for d in start_days]),
            ir.Not(ir.Regex("TimeCreated", tod + ge_regex(end))),
        )
    )
    return ir.Or((late, early))


def _dates(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _date_node(days: list[date]) -> ir.Node:
    """``TimeCreated`` on one of ``days``: one regex, dates grouped by year and month."""
    if not days:
        return ir.Const(False)
    tree: dict[int, dict[int, list[int]]] = {}
    for d in days:
        tree.setdefault(d.year, {}).setdefault(d.month, []).append(d.day)
    years = []
    for y, months in sorted(tree.items()):
        ms = "|".join(f"{m:02d}-(?:{'|'.join(f'{x:02d}' for x in sorted(ds))})" for m, ds in sorted(months.items()))
        years.append(f"{y:04d}-(?:{ms})")
    return ir.Regex("TimeCreated", "^(?:" + "|".join(years) + ")T")
