"""Group alerts into per-host incidents, join registration with load/write, deduplicate EID 29 bursts.

Design (docs/rules.md, "Correlation"):

- **Module keys.** Each alert names the module(s) it is about: lower-cased DLL base names
  (``defdoc.dll``) and registered module names (``defaultdocumentmodule_atomic``), taken from the
  command line (``/name:``, ``/image:``, ``-Name``, ``-Image``, any ``*.dll``), the EID 29 element key
  ``[@name='X']`` and a DLL ``NewValue``, ``ImageLoaded``, ``TargetFilename``/``ObjectName``, ``ModuleDll``
  or registry ``Details``. :func:`module_key` returns the primary one (the DLL if known, else the name).
- **Incidents.** On one host, two alerts within ``window`` of each other that share a module key are in
  the same incident (transitively). Alerts without a module (config-file writes, logging tamper) join
  the keyed alert nearest in time on the same host within the window; if there is none, they chain with
  each other (gaps <= window). Every alert ends in exactly one incident; singletons are incidents too.
- **Raised level.** An incident holding both a *registration* (command, script, EID 29 add, config
  write, registry) and an *activity* for the same module (untrusted load, DLL write, load failure; a
  config write counts for whatever module the incident is about) is a confirmed install: the alerts on
  both sides (including those naming the module by an alias, e.g. the EID 29 ``@name`` record of a DLL
  joined through its ``@image`` record, and duplicates) are raised one level (``alerts.raise_level``,
  noted in ``alert.notes``) and the incident level is the highest alert level.
- **EID 29 bursts.** IIS audits each attribute of one change separately. Within an incident, EID 29
  alerts of the same rule about the same module (element key) within ``BURST`` of the first are
  duplicates: they stay in ``incident.alerts`` (nothing is dropped) but carry a note starting with
  ``DUPLICATE_NOTE``; the first carries the count, ``incident.duplicates`` counts them and the
  summary says so. Renderers may collapse them with :func:`is_duplicate`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from iisdetect.engine.ir import CAUSE_ROLES, EFFECT_ROLES
from iisdetect.engine.linear_re import compile_linear
from iisdetect.hunting.alerts import LEVELS, Alert, raise_level
from iisdetect.mapping.fields import role, roles
from iisdetect.model.times import parse_time

#: EID 29 attribute events of one change arrive within this span.
BURST = timedelta(seconds=60)
DUPLICATE_NOTE = "duplicate of "

# RE2 (linear time): these run on attacker-controlled command lines (engine/linear_re.py)
_DLL = compile_linear(r"([^\\/\s\"'=:,;|<>]+\.dll)\b", ignore_case=True)
_NAME = compile_linear(r"(?:^|[\s\"'])(?:[-/]name:\s*[\"']?|-Name\s+[\"']?)([^\s\"',;/\]]+)", ignore_case=True)
_ELEMENT = compile_linear(r"\[@name=[\"']([^\"']+)[\"']\]", ignore_case=True)


@dataclass
class Incident:
    id: str
    host: str
    level: str
    first: str
    last: str
    module: str | None
    alerts: list[Alert]
    summary: str
    duplicates: int = 0
    joined: bool = False
    detection_types: list[str] = field(default_factory=list)
    #: the number of alerts when ``alerts`` is not held (a spooled run streams them: hunting/stream_incidents.py)
    count: int | None = None

    @property
    def alert_count(self) -> int:
        return len(self.alerts) if self.count is None else self.count


def module_keys(alert: Alert) -> list[str]:
    """Every module key of an alert, primary first (DLL base names, then module names), lower-case."""
    d = alert.event.data
    dlls: list[str] = []
    names: list[str] = []
    for fld in role("dll_file"):
        v = d.get(fld)
        if v and v.lower().endswith(".dll"):
            dlls.append(_base(v))
    for fld in roles("module_command", "config_value"):
        v = d.get(fld)
        if v:
            dlls.extend(m.lower() for m in _DLL.findall(v))
    if alert.rule.role == "registration":  # elsewhere -Name is any parameter (-Name dontLog)
        for fld in role("module_command"):
            v = d.get(fld)
            if v:
                names.extend(m.lower() for m in _NAME.findall(v) if not m.lower().endswith(".dll"))
    for fld in role("config_path"):
        conf = d.get(fld)
        if conf:
            names.extend(m.lower() for m in _ELEMENT.findall(conf))
    out: list[str] = []
    for k in dlls + names:
        k = _base(k)
        if k and k not in out:
            out.append(k)
    return out


def module_key(alert: Alert) -> str | None:
    """The module an alert is about: its DLL base name if known, else the registered module name."""
    keys = module_keys(alert)
    return keys[0] if keys else None


def is_duplicate(alert: Alert) -> bool:
    return any(n.startswith(DUPLICATE_NOTE) for n in alert.notes)


def _base(path: str) -> str:
    return re.split(r"[\\/]", path.strip().strip("\"'"))[-1].lower()


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def correlate(alerts: list[Alert], window: timedelta = timedelta(hours=1)) -> list[Incident]:
    """Per-host incidents (see module docstring). Sets ``alert.incident``; may raise alert levels."""
    order = sorted(range(len(alerts)), key=lambda i: (alerts[i].event.time_created, i))
    by_host: dict[str, list[int]] = defaultdict(list)
    for i in order:
        by_host[alerts[i].event.computer.lower()].append(i)
    times = [parse_time(a.event.time_created) for a in alerts]
    keys = [module_keys(a) for a in alerts]
    uf = _Union(len(alerts))
    for idxs in by_host.values():
        _link_keyed(idxs, keys, times, window, uf)
        _link_unkeyed(idxs, keys, times, window, uf)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in order:
        groups[uf.find(i)].append(i)
    incidents = [_incident([alerts[i] for i in members], [keys[i] for i in members]) for members in groups.values()]
    incidents.sort(key=lambda inc: (inc.first, inc.host))
    for n, inc in enumerate(incidents, 1):
        inc.id = f"INC-{n:04d}"
        for a in inc.alerts:
            a.incident = inc.id
    return incidents


def _link_keyed(idxs: list[int], keys: list[list[str]], times: list, window: timedelta, uf: _Union) -> None:
    last_seen: dict[str, int] = {}
    for i in idxs:
        for k in keys[i]:
            j = last_seen.get(k)
            if j is not None and times[i] - times[j] <= window:
                uf.union(i, j)
            last_seen[k] = i


def _link_unkeyed(idxs: list[int], keys: list[list[str]], times: list, window: timedelta, uf: _Union) -> None:
    keyed = [i for i in idxs if keys[i]]
    keyed_times = [times[i] for i in keyed]
    prev_unkeyed: int | None = None
    for i in idxs:
        if keys[i]:
            continue
        pos = bisect.bisect_left(keyed_times, times[i])
        best = None
        for j in (keyed[p] for p in (pos - 1, pos) if 0 <= p < len(keyed)):
            gap = abs(times[i] - times[j])
            if gap <= window and (best is None or gap < abs(times[i] - times[best])):
                best = j
        if best is not None:
            uf.union(i, best)
        elif prev_unkeyed is not None and times[i] - times[prev_unkeyed] <= window:
            uf.union(i, prev_unkeyed)
        prev_unkeyed = i


def _incident(members: list[Alert], member_keys: list[list[str]]) -> Incident:
    dups = _dedupe_eid29(members, member_keys)
    counts = Counter(k for ks in member_keys for k in ks)
    module = counts.most_common(1)[0][0] if counts else None
    reg_keys: set[str] = set()
    act_keys: set[str] = set()
    config_write = False
    for a, ks in zip(members, member_keys, strict=True):
        if a.rule.role in CAUSE_ROLES:
            reg_keys.update(ks)
            config_write |= a.rule.role == "config_change" and not ks
        elif a.rule.role in EFFECT_ROLES:
            act_keys.update(ks)
    shared = reg_keys & act_keys
    joined = bool(shared) or (config_write and bool(act_keys))
    if joined:
        # keys that name the same module (a name and its DLL seen together in one alert) count as one
        core = shared or act_keys
        aliases = set(core)
        for ks in member_keys:
            if core & set(ks):
                aliases.update(ks)
        what = ", ".join(sorted(core))
        for a, ks in zip(members, member_keys, strict=True):
            side = a.rule.role in CAUSE_ROLES or a.rule.role in EFFECT_ROLES
            if side and (aliases & set(ks) or not ks):
                old = a.level
                a.level = raise_level(a.level)
                a.notes.append(f"level {old} -> {a.level}: registration and load/write of {what} on one host")
        module = sorted(shared)[0] if shared else module
    level = max((a.level for a in members), key=lambda lv: LEVELS.index(lv) if lv in LEVELS else 2)
    types = sorted({a.detection_type for a in members})
    host = members[0].event.computer
    parts = summary_parts(len(members), host, module, joined, dups, types)
    return Incident(
        id="",
        host=host,
        level=level,
        first=members[0].event.time_created,
        last=members[-1].event.time_created,
        module=module,
        alerts=members,
        summary="; ".join(parts),
        duplicates=dups,
        joined=joined,
        detection_types=types,
    )


def _dedupe_eid29(members: list[Alert], member_keys: list[list[str]]) -> int:
    """Mark later EID 29 alerts of one change (same rule, same element name, within BURST) as duplicates."""
    reps: dict[tuple[str, str], Alert] = {}
    extra: Counter[int] = Counter()
    dups = 0
    for a, ks in zip(members, member_keys, strict=True):
        if a.event.event_id != 29 or "configuration" not in a.event.channel.lower():
            continue
        conf = a.event.data.get("Configuration") or ""
        m = _ELEMENT.search(conf)
        elem = m.group(1).lower() if m else (ks[0] if ks else conf.rsplit("/@", 1)[0].lower())
        key = (a.rule.id, elem)
        rep = reps.get(key)
        if rep is not None and parse_time(a.event.time_created) - parse_time(rep.event.time_created) <= BURST:
            a.notes.append(f"{DUPLICATE_NOTE}{rep.event.source} {rep.event.locator} (same EID 29 change)")
            extra[id(rep)] += 1
            dups += 1
        else:
            reps[key] = a
    for rep in reps.values():
        if extra[id(rep)]:
            rep.notes.append(f"+{extra[id(rep)]} duplicate EID 29 event(s) of the same change")
    return dups


def summary_parts(count: int, host: str, module: str | None, joined: bool, dups: int, types: list[str]) -> list[str]:
    """The incident's one-line summary, in pieces: the same words from the in-memory and the spooled
    correlation (hunting/stream_incidents.py), so their outputs stay byte-identical."""
    parts = [f"{count} alert{'s' if count != 1 else ''} on {host}"]
    if module:
        parts.append(f"module {module}")
    if joined:
        parts.append("registration joined with load/write: confirmed install")
    if dups:
        parts.append(f"{dups} duplicate EID 29 event{'s' if dups != 1 else ''} of one change")
    parts.append("types: " + ", ".join(types))
    return parts
