"""The local engine: rule IR -> Python closures, dispatched by EventID.

Why closures and not a query engine: hunting streams events one at a time with flat memory, and
the feasibility measurements show precompiled predicates over dicts at 0.5M+ rows/s, well above
the EVTX parse rate. Events are first routed by EventID (a dict lookup), so an event no rule can
match costs one lookup. Sigma string semantics: case-insensitive (``casefold`` is not used:
Windows compares paths with simple upper/lower case), missing field never matches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from iisdetect.engine import ir
from iisdetect.model.event import SYSTEM_FIELDS, Event

Predicate = Callable[[Event], bool]


def _getter(field: str) -> Callable[[Event], str | None]:
    if field in SYSTEM_FIELDS:
        return lambda ev: ev.get(field)
    return lambda ev: ev.data.get(field)


def glob_regex(parts: Sequence[object]) -> str:
    """Sigma glob parts -> an anchored regex body (shared by the Python and SQL targets)."""
    out = []
    for p in parts:
        if p is ir.STAR:
            out.append(".*")
        elif p is ir.ONE:
            out.append(".")
        else:
            out.append(re.escape(str(p)))
    return "".join(out)


def compile_node(node: ir.Node) -> Predicate:  # noqa: C901 - one branch per node type
    if isinstance(node, ir.And):
        preds = tuple(compile_node(n) for n in node.items)
        return lambda ev: all(p(ev) for p in preds)
    if isinstance(node, ir.Or):
        merged = _merge_or(node)
        preds = tuple(_group_pred(n) if isinstance(n, _StrGroup) else compile_node(n) for n in merged)
        if len(preds) == 1:
            return preds[0]
        return lambda ev: any(p(ev) for p in preds)
    if isinstance(node, ir.Not):
        inner = compile_node(node.item)
        return lambda ev: not inner(ev)
    if isinstance(node, ir.Const):
        value = node.value
        return lambda ev: value
    if isinstance(node, ir.TimeWindow):
        return _window_pred(_getter(node.field), node)
    get = _getter(node.field)
    if isinstance(node, ir.Str):
        return _str_pred(get, node)
    if isinstance(node, ir.Glob):
        rx = re.compile(glob_regex(node.parts), re.S if node.cased else re.S | re.I)
        return lambda ev: (v := get(ev)) is not None and rx.fullmatch(v) is not None
    if isinstance(node, ir.Regex):
        rx = re.compile(node.pattern, re.I if node.ignore_case else 0)
        return lambda ev: (v := get(ev)) is not None and rx.search(v) is not None
    if isinstance(node, ir.Num):
        want = node.value

        def num(ev: Event) -> bool:
            v = get(ev)
            if v is None:
                return False
            try:
                return int(v) == want
            except ValueError:
                try:
                    return int(v, 0) == want
                except ValueError:
                    return False

        return num
    if isinstance(node, ir.Null):
        return lambda ev: not get(ev)
    if isinstance(node, ir.Cidr):
        net = ipaddress.ip_network(node.network, strict=False)

        def cidr(ev: Event) -> bool:
            v = get(ev)
            try:
                return v is not None and ipaddress.ip_address(v) in net
            except ValueError:
                return False

        return cidr
    raise TypeError(f"unknown IR node {node!r}")


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _window_pred(get: Callable[[Event], str | None], node: ir.TimeWindow) -> Predicate:
    """Canonical times are ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC): string order is time order."""
    lo, hi, days, d0, d1 = node.start, node.end, frozenset(node.days), node.day_start, node.day_end

    def pred(ev: Event) -> bool:
        v = get(ev)
        if not v or not _ISO.match(v):
            return False
        t = v[:19]
        if (lo is not None and t < lo) or (hi is not None and t >= hi):
            return False
        if not days:
            return True
        try:
            wd = date(int(v[:4]), int(v[5:7]), int(v[8:10])).weekday()
        except ValueError:
            return False
        minute = int(v[11:13]) * 60 + int(v[14:16])
        return wd in days and d0 <= minute < d1

    return pred


def _str_pred(get: Callable[[Event], str | None], node: ir.Str) -> Predicate:
    needle = node.value if node.cased else node.value.lower()
    low = (lambda v: v) if node.cased else str.lower
    if node.op == "eq":
        return lambda ev: (v := get(ev)) is not None and low(v) == needle
    if node.op == "startswith":
        return lambda ev: (v := get(ev)) is not None and low(v).startswith(needle)
    if node.op == "endswith":
        return lambda ev: (v := get(ev)) is not None and low(v).endswith(needle)
    return lambda ev: (v := get(ev)) is not None and needle in low(v)


def _merge_or(node: ir.Or) -> list[ir.Node]:
    """Group OR-ed case-insensitive string tests by field: one ``lower()`` per event, then C-level
    ``in``/``startswith``/``endswith`` scans (faster than a regex alternation on long script blocks)."""
    groups: dict[str, list[ir.Str]] = {}
    rest: list[ir.Node] = []
    for item in node.items:
        if isinstance(item, ir.Str) and not item.cased:
            groups.setdefault(item.field, []).append(item)
        else:
            rest.append(item)
    out: list[ir.Node] = []
    for items in groups.values():
        out.append(items[0] if len(items) == 1 else _StrGroup(tuple(items)))
    return out + rest


class _StrGroup:
    """Internal node: several case-insensitive string tests on one field, OR-ed."""

    def __init__(self, items: tuple[ir.Str, ...]) -> None:
        self.field = items[0].field
        self.items = items


def _group_pred(group: _StrGroup) -> Predicate:
    get = _getter(group.field)
    eqs = frozenset(s.value.lower() for s in group.items if s.op == "eq")
    starts = tuple(s.value.lower() for s in group.items if s.op == "startswith")
    ends = tuple(s.value.lower() for s in group.items if s.op == "endswith")
    subs = tuple(s.value.lower() for s in group.items if s.op == "contains")

    def pred(ev: Event) -> bool:
        v = get(ev)
        if v is None:
            return False
        v = v.lower()
        if v in eqs or (starts and v.startswith(starts)) or (ends and v.endswith(ends)):
            return True
        return any(n in v for n in subs)

    return pred


class Detector:
    """Matches events against compiled rules. Build once per run; ``match`` is the hot path."""

    def __init__(self, rules: Iterable[ir.CompiledRule]) -> None:
        self.rules = list(rules)
        self._by_id: dict[int, list[tuple[frozenset[str], frozenset[str], Predicate, ir.CompiledRule]]] = {}
        self._any: list[tuple[frozenset[str], frozenset[str], Predicate, ir.CompiledRule]] = []
        for rule in self.rules:
            for variant in rule.variants:
                src = variant.source
                entry = (
                    frozenset(c.lower() for c in src.channels),
                    frozenset(p.lower() for p in src.providers),
                    compile_node(variant.condition),
                    rule,
                )
                ids = src.event_ids or lift_event_ids(variant.condition)
                if ids:
                    for eid in ids:
                        self._by_id.setdefault(eid, []).append(entry)
                else:
                    self._any.append(entry)
        self.event_ids = frozenset(self._by_id) if not self._any else None

    def match(self, event: Event) -> list[ir.CompiledRule]:
        """Rules that fire on ``event`` (each rule at most once, in rule order)."""
        cands = self._by_id.get(event.event_id)
        if cands is None and not self._any:
            return []
        channel = event.channel.lower()
        provider = event.provider.lower()
        hits: list[ir.CompiledRule] = []
        pool = (cands or []) + self._any if self._any else cands or []
        for chans, provs, pred, rule in pool:
            if (channel in chans or provider in provs) and rule not in hits and pred(event):
                hits.append(rule)
        return hits


def lift_event_ids(node: ir.Node) -> tuple[int, ...]:
    """EventIDs a condition requires (``EventID: 29`` in a service rule), else () meaning "any".

    AND: the first conjunct that pins EventIDs; OR: the union, only if every branch pins some.
    """
    if isinstance(node, ir.Num) and node.field == "EventID":
        return (node.value,)
    if isinstance(node, ir.And):
        for item in node.items:
            ids = lift_event_ids(item)
            if ids:
                return ids
        return ()
    if isinstance(node, ir.Or):
        out: list[int] = []
        for item in node.items:
            ids = lift_event_ids(item)
            if not ids:
                return ()
            out.extend(i for i in ids if i not in out)
        return tuple(out)
    return ()
