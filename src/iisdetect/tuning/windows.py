"""Maintenance windows for tuning entries: ``ir.TimeWindow`` nodes on ``TimeCreated`` (UTC).

Why a node and not regexes: every SIEM compares times and computes weekdays natively (KQL
``dayofweek``, ES|QL ``DATE_EXTRACT``, SPL arithmetic on ``_time``, AQL on ``starttime``), and the old
date-expansion regexes made tuned queries 4-5x longer (a weekly window alone was 5,013 chars,
above Elasticsearch's 1,000-char regex limit). A window crossing midnight becomes two nodes
(start day ``[start, 24:00)`` and the next day ``[00:00, end)``), so each node is one weekday set
and one minute range.

``regex_form`` keeps the old lowering for targets without time functions (a Sigma file: Sigma has
no time modifiers): ``TimeCreated`` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, so ``>=`` on a fixed-width
prefix is a regex over digits, and weekdays are expanded into explicit dates over the window's own
``from``/``to`` or the horizon 2020-01-01 .. 2039-12-31.
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
FIELD = "TimeCreated"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def ge_regex(bound: str) -> str:
    """Regex body matching strings whose prefix of ``len(bound)`` chars is >= ``bound`` (digits vary)."""
    alts = []
    for i, ch in enumerate(bound):
        if ch.isdigit() and ch != "9":
            alts.append(f"{re.escape(bound[:i])}[{int(ch) + 1}-9]")
    alts.append(re.escape(bound))
    return "(?:" + "|".join(alts) + ")"


def _parse_instant(value: Any, label: str) -> datetime:
    """A window bound as a naive UTC datetime (the regexes below compare canonical UTC strings)."""
    return to_datetime(value, label).replace(tzinfo=None)


def _iso(dt: datetime) -> str:
    return format_iso(dt, 0)[:-1]


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
            nodes.append(ir.TimeWindow(FIELD, _iso(lo) if lo else None, _iso(hi) if hi else None))
            continue
        if weekly != {"days", "start", "end"}:
            raise UsageError(f"{wl}: a weekly window needs days, start and end")
        nodes.extend(_weekly(w, wl, lo, hi))
    return ir.any_of(nodes)


def _hhmm(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise UsageError(f'{label}: {value!r} is not a UTC time HH:MM (quote it in YAML: "22:00")')
    return value


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _weekly(w: dict[str, Any], label: str, lo: datetime | None, hi: datetime | None) -> list[ir.TimeWindow]:
    days = w["days"] if isinstance(w["days"], list) else [w["days"]]
    wanted = set()
    for d in days:
        key = str(d).lower()[:3]
        if key not in DAYS:
            raise UsageError(f"{label}, 'days': {d!r} is not a weekday (mon..sun)")
        wanted.add(DAYS[key])
    start = _minutes(_hhmm(w["start"], f"{label}, 'start'"))
    end = _minutes(_hhmm(w["end"], f"{label}, 'end'"))
    bounds = (_iso(lo) if lo else None, _iso(hi) if hi else None)
    if end > start:  # same day: start <= time < end
        return [ir.TimeWindow(FIELD, *bounds, tuple(sorted(wanted)), start, end)]
    # crosses midnight: (start day, time >= start) or (next day, time < end)
    out = [ir.TimeWindow(FIELD, *bounds, tuple(sorted(wanted)), start, 1440)]
    if end > 0:
        out.append(ir.TimeWindow(FIELD, *bounds, tuple(sorted((d + 1) % 7 for d in wanted)), 0, end))
    return out


# ------------------------------------------------------------------------------ regex lowering


def time_at_least(iso: str) -> ir.Node:
    """``TimeCreated >= iso`` (second precision) as a regex on the canonical ISO string."""
    return ir.Regex(FIELD, "^" + ge_regex(iso))


def regex_form(node: ir.Node) -> ir.Node:
    """``node`` with every ``TimeWindow`` lowered to regexes on the ISO string (same matches within
    the horizon; for targets that only test strings)."""
    if isinstance(node, ir.And):
        return ir.And(tuple(regex_form(n) for n in node.items))
    if isinstance(node, ir.Or):
        return ir.Or(tuple(regex_form(n) for n in node.items))
    if isinstance(node, ir.Not):
        return ir.Not(regex_form(node.item))
    if not isinstance(node, ir.TimeWindow):
        return node
    parts: list[ir.Node] = [ir.Regex(node.field, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")]
    if node.start:
        parts.append(ir.Regex(node.field, "^" + ge_regex(node.start)))
    if node.end:
        parts.append(ir.Not(ir.Regex(node.field, "^" + ge_regex(node.end))))
    if node.days:
        first = date.fromisoformat(node.start[:10]) if node.start else DEFAULT_HORIZON[0]
        last = date.fromisoformat(node.end[:10]) if node.end else DEFAULT_HORIZON[1]
        parts.append(_date_node([d for d in _dates(first, last) if d.weekday() in node.days]))
        tod = r"^.{10}T"
        if node.day_start > 0:
            parts.append(ir.Regex(node.field, tod + ge_regex(_hhmm_of(node.day_start))))
        if node.day_end < 1440:
            parts.append(ir.Not(ir.Regex(node.field, tod + ge_regex(_hhmm_of(node.day_end)))))
    return ir.And(tuple(parts))


def _hhmm_of(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


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
    return ir.Regex(FIELD, "^(?:" + "|".join(years) + ")T")
