"""Correlation over an :class:`~iisdetect.hunting.spool.AlertSpool`: the same incidents as ``correlate``.

:func:`iisdetect.hunting.incidents.correlate` is the specification (and what the Python API still
returns); this is the same algorithm on the spool's integer columns, so a million alerts correlate
in tens of MB instead of gigabytes (docs/correlation.md). Nothing here depends on the order alerts
arrived in: the global order is the stable sort by (time, arrival), as in ``correlate``, so incident
ids, alert order, raised levels, notes and EID 29 duplicates are identical (tests/hunting/
test_stream_incidents.py compares the two on the simulator's scenarios and on shuffled input).

Two steps:

1. :func:`plan`: union-find over the columns (links within ``window`` per host, exactly as
   ``_link_keyed``/``_link_unkeyed``), then the incidents in id order and each one's members in time
   order, as two integer arrays.
2. :meth:`Plan.groups`: per incident, its summary computed from the columns (``_incident``'s rules),
   and an iterator loading its alerts from disk one at a time with the level and notes applied. Only
   one alert is in memory at a time, even in an incident of a million alerts.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
else:

    class _LazyNumpy:
        """numpy on first use: a hunt that never correlates (or a one-event run) skips its ~0.15 s import."""

        def __getattr__(self, name: str) -> Any:
            import numpy

            globals()["np"] = numpy
            return getattr(numpy, name)

    np = _LazyNumpy()

from iisdetect.engine.ir import CAUSE_ROLES, EFFECT_ROLES, CompiledRule
from iisdetect.hunting.alerts import LEVELS, Alert, raise_level
from iisdetect.hunting.incidents import BURST, DUPLICATE_NOTE, Incident, summary_parts
from iisdetect.hunting.spool import UNTIMED, AlertSpool

_US = timedelta(microseconds=1)
_CHUNK = 1 << 16


def _ints(a: np.ndarray) -> Iterator[int]:
    """Python ints of a numpy array, converted a chunk at a time (a million-int list is ~36 MB)."""
    for s in range(0, len(a), _CHUNK):
        yield from a[s : s + _CHUNK].tolist()


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = array("i", range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class Plan:
    """Incidents in id order: ``members[starts[k]:starts[k+1]]`` are incident k's alerts (spool numbers)."""

    def __init__(self, spool: AlertSpool, members: np.ndarray, starts: np.ndarray) -> None:
        self.spool, self.members, self.starts = spool, members, starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def groups(self) -> Iterator[tuple[Incident, Iterator[Alert]]]:
        """Each incident (``alerts`` empty, ``count`` set) with a one-pass iterator over its alerts."""
        for k in range(len(self)):
            members = self.members[self.starts[k] : self.starts[k + 1]].tolist()
            inc, fix = _describe(self.spool, members, f"INC-{k + 1:04d}")
            yield inc, _alerts(self.spool, members, inc.id, fix)


def plan(spool: AlertSpool, ids: list[int] | np.ndarray, window: timedelta) -> Plan:
    """Group the spool's alerts ``ids`` (arrival order) into incidents, as ``correlate`` does.

    Union-find runs on the spool's own alert numbers; the temporaries are numpy arrays (8 bytes an
    alert each, freed as soon as they are used), never Python lists of a million ints.
    """
    ids = np.asarray(ids, dtype=np.int32)  # alert numbers: the spool holds fewer than 2**31
    n = len(ids)
    if not n:
        return Plan(spool, np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))
    full = n == len(spool)  # every alert kept (no --last cut): the columns are used in place, not copied
    if spool.odd_times:
        tkey = _time_rank(spool, ids)
    else:
        tall = np.frombuffer(spool.times, dtype=np.int64)
        tkey = tall if full else tall[ids]
    order = np.argsort(tkey, kind="stable").astype(np.int32)  # (time, arrival): correlate's sort
    hall = np.frombuffer(spool.host, dtype=np.int32)
    hosts = (hall if full else hall[ids])[order]
    by_host = np.argsort(hosts, kind="stable").astype(np.int32)
    bounds = np.flatnonzero(np.diff(hosts[by_host])) + 1
    del hosts
    seq = ids[order[by_host]]  # alert numbers per host, in time order within a host
    del by_host
    uf = _Union(len(spool))
    win = window // _US
    for seg in np.split(seq, bounds):
        _link(seg, spool.times, spool, win, uf)
    del seq
    find = uf.find
    root = np.fromiter((find(i) for i in _ints(ids[order])), dtype=np.int32, count=n)  # in time order
    del uf
    # a root is the smallest alert number of its set; its first place in time order opens the incident
    first_pos = np.full(len(spool), n, dtype=np.int32)
    np.minimum.at(first_pos, root, np.arange(n, dtype=np.int32))
    uroots = np.flatnonzero(first_pos < n).astype(np.int32)
    first_at = first_pos[uroots]
    del first_pos
    first_id = ids[order[first_at]]
    comp_rank = _name_rank(spool, np.frombuffer(spool.computer, dtype=np.int32)[first_id])
    by_key = np.lexsort((first_at, comp_rank, tkey[order[first_at]]))  # incidents.sort(key=(first, host))
    del tkey, comp_rank, first_id, first_at
    rank_of_root = np.zeros(len(spool), dtype=np.int32)
    rank_of_root[uroots[by_key]] = np.arange(len(uroots), dtype=np.int32)
    inc_in_order = rank_of_root[root]
    del root, rank_of_root
    members = ids[order[np.argsort(inc_in_order, kind="stable")]]
    starts = np.concatenate(([0], np.cumsum(np.bincount(inc_in_order, minlength=len(uroots)))))
    return Plan(spool, members, starts)


def _name_rank(spool: AlertSpool, string_ids: np.ndarray) -> np.ndarray:
    """Each interned string's rank in text order (Computer names sort incidents and uncorrelated alerts)."""
    uniq, inverse = np.unique(string_ids, return_inverse=True)
    names = spool.strings.strings
    by_name = sorted(range(len(uniq)), key=lambda k: names[uniq[k]])
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[by_name] = np.arange(len(uniq))
    return rank[inverse]


def _time_rank(spool: AlertSpool, ids: np.ndarray) -> np.ndarray:
    """Times as ranks of their text (the sort ``correlate`` does), for spools holding non-canonical times."""
    texts = [spool.time_str(i) for i in ids.tolist()]
    rank = {s: r for r, s in enumerate(sorted(set(texts)))}
    return np.fromiter((rank[s] for s in texts), dtype=np.int64, count=len(texts))


def _link(seg: np.ndarray, times: array, spool: AlertSpool, win: int, uf: _Union) -> None:
    """``_link_keyed`` then ``_link_unkeyed`` for one host's alerts (alert numbers in time order)."""
    ks_start, keys = spool.key_start, spool.keys
    last_seen: dict[int, int] = {}
    keyed = array("q")
    keyed_times = array("q")
    unkeyed = array("q")
    for i in _ints(seg):
        a, b = ks_start[i], ks_start[i + 1]
        if a == b:
            unkeyed.append(i)
            continue
        ti = times[i]
        keyed.append(i)
        keyed_times.append(ti)
        for k in keys[a:b]:
            p = last_seen.get(k)
            if p is not None and ti - times[p] <= win:
                uf.union(i, p)
            last_seen[k] = i
    del last_seen
    prev: int | None = None
    for i in unkeyed:
        ti = times[i]
        pos = bisect.bisect_left(keyed_times, ti)
        best = None
        best_gap = 0
        for p in (pos - 1, pos):
            if 0 <= p < len(keyed):
                gap = abs(ti - keyed_times[p])
                if gap <= win and (best is None or gap < best_gap):
                    best, best_gap = keyed[p], gap
        if best is not None:
            uf.union(i, best)
        elif prev is not None and ti - times[prev] <= win:
            uf.union(i, prev)
        prev = i


class _Fix:
    """What correlation changes on an incident's alerts: levels, raise note, EID 29 duplicate notes."""

    def __init__(self) -> None:
        self.raised: set[int] = set()
        self.what = ""
        self.dup_of: dict[int, int] = {}
        self.extra: dict[int, int] = {}
        self.reps: set[int] = set()  #: alerts other alerts are duplicates of


def _describe(spool: AlertSpool, members: list[int], inc_id: str) -> tuple[Incident, _Fix]:
    """``incidents._incident`` on the columns: the incident, and what to change on its alerts."""
    rules, rule, elem, times = spool.rules, spool.rule, spool.elem, spool.times
    names = spool.strings.strings
    fix = _Fix()
    member_keys = [spool.key_ids(m).tolist() for m in members] if len(members) < 4096 else None

    def keys_of(n: int, m: int) -> list[int]:
        return member_keys[n] if member_keys is not None else spool.key_ids(m).tolist()

    # EID 29 bursts (incidents._dedupe_eid29); "+N" goes on the representatives still current at the end
    reps: dict[tuple[str, int], int] = {}
    extra: Counter[int] = Counter()
    burst = BURST // _US
    for m in members:
        e = elem[m]
        if e < 0:
            continue
        key = (rules[rule[m]].id, e)
        rep = reps.get(key)
        if rep is not None and times[m] - times[rep] <= burst:
            fix.dup_of[m] = rep
            extra[rep] += 1
        else:
            reps[key] = m
    fix.extra = {rep: extra[rep] for rep in reps.values() if extra[rep]}
    dups = len(fix.dup_of)
    fix.reps = set(fix.dup_of.values())
    counts: Counter[int] = Counter()
    reg: set[int] = set()
    act: set[int] = set()
    config_write = False
    for n, m in enumerate(members):
        ks = keys_of(n, m)
        counts.update(ks)
        r = rules[rule[m]].role
        if r in CAUSE_ROLES:
            reg.update(ks)
            config_write |= r == "config_change" and not ks
        elif r in EFFECT_ROLES:
            act.update(ks)
    module = names[counts.most_common(1)[0][0]] if counts else None
    shared = reg & act
    joined = bool(shared) or (config_write and bool(act))
    if joined:
        core = shared or act
        aliases = set(core)
        for n, m in enumerate(members):
            ks = keys_of(n, m)
            if core.intersection(ks):
                aliases.update(ks)
        fix.what = ", ".join(sorted(names[k] for k in core))
        for n, m in enumerate(members):
            r = rules[rule[m]].role
            if (r in CAUSE_ROLES or r in EFFECT_ROLES) and (aliases.intersection(keys_of(n, m)) or not keys_of(n, m)):
                fix.raised.add(m)
        module = sorted(names[k] for k in shared)[0] if shared else module
    level, best = "", -1
    for m in members:
        lv = rules[rule[m]].level
        lv = raise_level(lv) if m in fix.raised else lv
        rank = LEVELS.index(lv) if lv in LEVELS else 2
        if rank > best:
            level, best = lv, rank
    types = sorted({rules[rule[m]].detection_type for m in members})
    host = names[spool.computer[members[0]]]
    parts = summary_parts(len(members), host, module, joined, dups, types)
    inc = Incident(
        id=inc_id,
        host=host,
        level=level,
        first=spool.time_str(members[0]),
        last=spool.time_str(members[-1]),
        module=module,
        alerts=[],
        summary="; ".join(parts),
        duplicates=dups,
        joined=joined,
        detection_types=types,
        count=len(members),
    )
    return inc, fix


def _alerts(spool: AlertSpool, members: list[int], inc_id: str, fix: _Fix) -> Iterator[Alert]:
    """The incident's alerts from disk, in time order, with correlation's changes applied."""
    where: dict[int, tuple[str, str]] = {}
    for m in members:
        a = spool.load(m)
        rep = fix.dup_of.get(m)
        if rep is not None:
            src, loc = where.get(rep) or _place(spool, rep)
            a.notes.append(f"{DUPLICATE_NOTE}{src} {loc} (same EID 29 change)")
        if m in fix.extra:
            a.notes.append(f"+{fix.extra[m]} duplicate EID 29 event(s) of the same change")
        if m in fix.reps and len(where) < 10_000:
            where[m] = (a.event.source, a.event.locator)
        if m in fix.raised:
            old = a.level
            a.level = raise_level(a.level)
            a.notes.append(f"level {old} -> {a.level}: registration and load/write of {fix.what} on one host")
        a.incident = inc_id
        yield a


def _place(spool: AlertSpool, i: int) -> tuple[str, str]:
    ev = spool.load(i).event
    return ev.source, ev.locator


class SpooledAlerts:
    """A hunt's alerts on disk (``HuntOptions.spool``): what the CLI renders without holding them.

    ``ids`` are the alerts kept (``--last`` may leave early ones out), in arrival order; ``plan`` the
    incidents when correlation is on. :meth:`groups` yields what ``report.hunt_output.groups`` gives for
    an in-memory result: (incident or None, alert count, alert iterator).
    """

    def __init__(self, alerts: AlertSpool, suppressed: AlertSpool) -> None:
        self.alerts, self.suppressed_spool = alerts, suppressed
        self._ids: np.ndarray | None = None  #: None: every alert added
        self.plan: Plan | None = None

    @property
    def ids(self) -> np.ndarray:
        return np.arange(len(self.alerts), dtype=np.int32) if self._ids is None else self._ids

    def __len__(self) -> int:
        return len(self.alerts) if self._ids is None else len(self._ids)

    def keep_from(self, start_us: int) -> int:
        """``--last``: keep alerts at or after ``start_us`` (and untimed ones); returns how many left out."""
        t = np.frombuffer(self.alerts.times, dtype=np.int64) if len(self.alerts) else np.zeros(0, np.int64)
        before = len(self.ids)
        self._ids = np.flatnonzero((t >= start_us) | (t == UNTIMED))
        return before - len(self._ids)

    def correlate(self, window: timedelta) -> None:
        # no alerts, no incidents: numpy is not even imported
        self.plan = plan(self.alerts, self.ids, window) if len(self) else Plan(self.alerts, [], [0])  # type: ignore[arg-type]

    def type_counts(self) -> Counter[str]:
        per_rule = Counter(np.frombuffer(self.alerts.rule, dtype=np.int32)[self.ids].tolist()) if len(self) else {}
        out: Counter[str] = Counter()
        for r, c in per_rule.items():
            out[self.alerts.rules[r].detection_type] += c
        return out

    def rule_counts(self) -> list[tuple[CompiledRule, int]]:
        per_rule = Counter(np.frombuffer(self.alerts.rule, dtype=np.int32)[self.ids].tolist()) if len(self) else {}
        return [(self.alerts.rules[r], c) for r, c in sorted(per_rule.items())]

    def groups(self, by_time: bool = False) -> Iterator[tuple[Incident | None, int, Iterator[Alert]]]:
        """Incidents in id order with their alerts; without correlation one group, in arrival order
        (``by_time``: sorted by time then Computer, as the table lists uncorrelated alerts)."""
        if self.plan is not None:
            for inc, alerts in self.plan.groups():
                yield inc, inc.alert_count, alerts
            return
        if not len(self):
            return
        ids = self._by_time() if by_time else np.asarray(self.ids)
        yield None, len(ids), (self.alerts.load(i) for i in _ints(ids))

    def _by_time(self) -> np.ndarray:
        sp, ids = self.alerts, np.asarray(self.ids, dtype=np.int64)
        tkey = _time_rank(sp, ids) if sp.odd_times else np.frombuffer(sp.times, dtype=np.int64)[ids]
        return ids[np.lexsort((_name_rank(sp, np.frombuffer(sp.computer, dtype=np.int32)[ids]), tkey))]

    def suppressed(self) -> Iterator[tuple[Alert, str]]:
        sp = self.suppressed_spool
        for i in range(len(sp)):
            yield sp.load(i), sp.extra[i]

    def close(self) -> None:
        self.alerts.close()
        self.suppressed_spool.close()
