"""A deliberately plain reference evaluator: walks the IR for every rule on every event.

Why a second evaluator: the Detector compiles closures, merges OR-ed string tests, reorders
conjuncts by cost, answers regexes with ``re2.Set`` and skips rules through the index
(``engine/index.py``). Every one of those is an optimisation that must not change a result, so
tests compare the Detector with this: no closures, no grouping, no index, each node read straight
from ``engine/ir.py``'s documented semantics (regexes through the ``re2`` wrapper's ordinary
``search``/``fullmatch``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from datetime import date

from iisdetect.engine import ir, wildcards
from iisdetect.engine.evaluate import lift_event_ids
from iisdetect.engine.linear_re import compile_linear
from iisdetect.mapping.logsources import DERIVATIONS
from iisdetect.model.event import MESSAGE_FIELD, MULTI_FIELD, SYSTEM_FIELDS, Event

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_RX: dict[tuple[str, bool, bool], object] = {}


def _rx(pattern: str, ignore_case: bool, dotall: bool):  # noqa: ANN202 - an re2 object
    key = (pattern, ignore_case, dotall)
    if key not in _RX:
        _RX[key] = compile_linear(pattern, ignore_case=ignore_case, dotall=dotall)
    return _RX[key]


def _value(ev: Event, field: str, derived: dict[str, str]) -> str | None:
    if field in derived:
        return DERIVATIONS[derived[field]](ev)
    if field in SYSTEM_FIELDS or field == MESSAGE_FIELD:
        return ev.get(field)
    return ev.data.get(field)


def _leaf(node: ir.Node, v: str | None) -> bool:
    if isinstance(node, ir.Null):
        return v is None
    if v is None:
        return False
    if isinstance(node, ir.Str):
        a, b = (v, node.value) if node.cased else (v.lower(), node.value.lower())
        if node.op == "eq":
            return a == b
        if node.op == "startswith":
            return a.startswith(b)
        if node.op == "endswith":
            return a.endswith(b)
        return b in a
    if isinstance(node, ir.Glob):
        return _rx(wildcards.to_regex(node.parts), not node.cased, True).fullmatch(v) is not None
    if isinstance(node, ir.Regex):
        return _rx(node.pattern, node.ignore_case, False).search(v) is not None
    if isinstance(node, ir.Num):
        return _INT.fullmatch(v) is not None and int(v) == node.value
    if isinstance(node, ir.Cidr):
        try:
            return ipaddress.ip_address(v) in ipaddress.ip_network(node.network, strict=False)
        except ValueError:
            return False
    raise TypeError(node)


def holds(node: ir.Node, ev: Event, derived: dict[str, str]) -> bool:
    """Does ``node`` hold for ``ev``? ``derived``: field -> derivation name of the variant's source."""
    if isinstance(node, ir.And):
        return all(holds(n, ev, derived) for n in node.items)
    if isinstance(node, ir.Or):
        return any(holds(n, ev, derived) for n in node.items)
    if isinstance(node, ir.Not):
        return not holds(node.item, ev, derived)
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.FieldRef):
        a, b = _value(ev, node.field, derived), _value(ev, node.other, derived)
        return a is not None and b is not None and _leaf(ir.Str(node.field, node.op, b), a)
    if isinstance(node, ir.TimeWindow):
        return _in_window(node, _value(ev, node.field, derived))
    if isinstance(node, ir.Num) and node.field == "EventID" and "EventID" not in derived:
        return ev.event_id == node.value
    if node.field == MULTI_FIELD and MULTI_FIELD not in derived:
        return any(_leaf(node, v) for v in ev.values(MULTI_FIELD))
    return _leaf(node, _value(ev, node.field, derived))


def _in_window(node: ir.TimeWindow, v: str | None) -> bool:
    if not v or not _ISO.match(v):
        return False
    t = v[:19]
    if (node.start is not None and t < node.start) or (node.end is not None and t >= node.end):
        return False
    if not node.days:
        return True
    try:
        wd = date(int(v[:4]), int(v[5:7]), int(v[8:10])).weekday()
    except ValueError:
        return False
    minute = int(v[11:13]) * 60 + int(v[14:16])
    return wd in node.days and node.day_start <= minute < node.day_end


def admits(chans: frozenset[str], provs: frozenset[str], ids: tuple[int, ...], ev: Event) -> bool:
    """The variant's log source admits the event: channel or provider (any case), and its EventIDs."""
    if ev.channel.lower() not in chans and ev.provider.lower() not in provs:
        return False
    return not ids or ev.event_id in ids


def reference_matcher(rules: Iterable[ir.CompiledRule]) -> Callable[[Event], list[ir.CompiledRule]]:
    """``event -> rules that fire``, in rule order, each once: what ``Detector.match`` must return."""
    plan = []
    for rule in rules:
        variants = []
        for v in rule.variants:
            src = v.source
            variants.append(
                (
                    frozenset(c.lower() for c in src.channels),
                    frozenset(p.lower() for p in src.providers),
                    src.event_ids or lift_event_ids(v.condition),
                    v.condition,
                    dict(src.derived),
                )
            )
        plan.append((rule, variants))

    def match(ev: Event) -> list[ir.CompiledRule]:
        out = []
        for rule, variants in plan:
            for chans, provs, ids, condition, derived in variants:
                if admits(chans, provs, ids, ev) and holds(condition, ev, derived):
                    out.append(rule)
                    break
        return out

    return match
