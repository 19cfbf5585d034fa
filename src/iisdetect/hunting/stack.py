"""Hunting by stacking (least frequency of occurrence) over w3wp.exe DLL loads and module registrations.

Why: an implant hides among the modules every IIS server loads. Counting each DLL that w3wp.exe loaded
(path, SHA256, signer) and each module registration or configuration change by host, and sorting the
rarest first, puts the one-server, one-time entries on top, where a hunter starts. Entries are judged
against the module baseline (:func:`iisdetect.baseline.judge`); anything not ``known`` is flagged.

Sources of the idea: MITRE DET0068 (module load + config change, first-seen per host) and Splunk's fleet
module inventory (``Get-WebGlobalModule`` stacked by host); see ``guides/sources.yaml``.

What is stacked (every event, tuning does not apply: a hunt looks at everything):

- ``dll_load``: Sysmon EID 7 with ``Image`` ending ``\\w3wp.exe``; key (path, SHA256, signer + status).
- ``registration``: IIS-Configuration EID 29 adds under globalModules / modules / isapiFilters / handlers
  (one entry per module name and image; the several attribute events of one change count once), and
  appcmd / gacutil / PowerShell command lines that register a module by ``/name:`` or ``-Name``.
- ``config_change``: other EID 29 changes (removals, logging), writes of applicationHost.config or
  web.config (Sysmon 11, Security 4663) by the writer's image, and registry values naming a DLL under W3SVC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from iisdetect.baseline import judge, load_baseline, normalise_path
from iisdetect.model.event import Event

KINDS = ("dll_load", "registration", "config_change")
_ELEMENT = re.compile(
    r"/system\.webServer/(globalModules|modules|isapiFilters|handlers)/(add|filter|remove)\[@name=[\"']([^\"']+)[\"']\]"
    r"(?:/@(\w+))?",
    re.I,
)
_IMAGE_ATTRS = {"image", "path", "type", "scriptprocessor"}
_CMD_NAME = re.compile(
    r"(?:^|[\s\"'])(?:[-/]name:\s*[\"']?|-Name\s+[\"']?)([^\"',;/\]\r\n]+?)[\"']?(?=\s+[-/]|\s*$|[\"'])", re.I
)
_CMD_IMAGE = re.compile(r"(?:[-/]image:\s*|-Image\s+)[\"']?([^\"'\r\n]+?\.dll)", re.I)
_REGISTERS = re.compile(
    r"appcmd(?:\.exe)?[\"']?\s+(?:install|add)\s+module|New-WebGlobalModule|New-WebManagedModule|gacutil(?:\.exe)?[\"']?\s+[-/]i",
    re.I,
)
_SHA256 = re.compile(r"SHA256=([0-9A-Fa-f]{64})")
_CONFIG_FILE = re.compile(r"\\(applicationhost\.config|web\.config)$", re.I)


@dataclass
class StackEntry:
    """One stacked item and where it was seen: ``hosts`` maps host -> event count."""

    kind: str
    item: str  #: the DLL path, the module name, or the changed configuration/file/registry key
    detail: str = ""  #: SHA256 (loads), image (registrations), new value / writer (config changes)
    signer: str = ""
    via: set[str] = field(default_factory=set)
    hosts: dict[str, int] = field(default_factory=dict)
    first: str = ""
    last: str = ""
    baseline: str = ""  #: known | lookalike | mismatch | unknown | not_in_baseline | n/a
    reasons: tuple[str, ...] = ()
    _once: set[str] = field(default_factory=set, repr=False)

    @property
    def events(self) -> int:
        return sum(self.hosts.values())

    @property
    def flagged(self) -> bool:
        return self.baseline not in ("known", "n/a")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "item": self.item,
            "detail": self.detail,
            "signer": self.signer,
            "via": sorted(self.via),
            "host_count": len(self.hosts),
            "events": self.events,
            "first_seen": self.first,
            "last_seen": self.last,
            "hosts": dict(sorted(self.hosts.items())),
            "baseline": self.baseline,
            "flagged": self.flagged,
            "reasons": list(self.reasons),
        }


class Stacker:
    """Feed events with :meth:`add`; :meth:`entries` gives the stack, rarest first."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, ...], StackEntry] = {}
        #: EID 29 name-only attribute events, kept until we know whether the change also named an image
        self._pending_names: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        self._named: set[tuple[str, str]] = set()

    def add(self, event: Event) -> None:
        eid, d = event.event_id, event.data
        if eid == 7 and (d.get("Image") or "").lower().endswith("\\w3wp.exe") and d.get("ImageLoaded"):
            self._load(event)
        elif eid == 29 and d.get("Configuration"):
            self._config_29(event)
        elif eid in (1, 4688, 4104):
            self._command(event)
        elif eid in (11, 4663):
            path = d.get("TargetFilename") or d.get("ObjectName") or ""
            if _CONFIG_FILE.search(path) and "\\inetpub\\history\\" not in path.lower():
                writer = d.get("Image") or d.get("ProcessName") or ""
                self._hit(
                    ("config_change", path.lower(), writer.lower()),
                    event,
                    "config_change",
                    path,
                    writer,
                    via="file write",
                )
        elif (
            eid == 13
            and "\\w3svc\\" in (d.get("TargetObject") or "").lower()
            and ".dll" in (d.get("Details") or "").lower()
        ):
            key = d["TargetObject"]
            self._hit(
                ("config_change", key.lower(), d["Details"].lower()),
                event,
                "config_change",
                key,
                d["Details"],
                via="registry",
            )

    def _hit(
        self,
        key: tuple[str, ...],
        event: Event,
        kind: str,
        item: str,
        detail: str = "",
        signer: str = "",
        via: str = "",
        once: bool = False,
    ) -> None:
        """Count ``event`` under ``key``; ``once``: the EID 29 attribute events of one change (same host and
        second) count once."""
        entry = self._by_key.get(key)
        if entry is None:
            entry = self._by_key[key] = StackEntry(kind, item, detail, signer)
        host = event.computer or "(no host)"
        if once:
            mark = f"{host}|{event.time_created[:19]}"
            if mark in entry._once:
                return
            entry._once.add(mark)
        entry.hosts[host] = entry.hosts.get(host, 0) + 1
        t = event.time_created
        if t and (not entry.first or t < entry.first):
            entry.first = t
        if t and t > entry.last:
            entry.last = t
        if via:
            entry.via.add(via)

    def _load(self, event: Event) -> None:
        d = event.data
        path = d["ImageLoaded"]
        m = _SHA256.search(d.get("Hashes") or "")
        sha = m.group(1).upper() if m else ""
        signer = d.get("Signature") or ("unsigned" if (d.get("Signed") or "").lower() == "false" else "")
        status = d.get("SignatureStatus") or ""
        shown = f"{signer} ({status})" if status and signer != "unsigned" else signer
        self._hit(
            ("dll_load", normalise_path(path), sha, shown.lower()), event, "dll_load", path, sha, shown, "sysmon 7"
        )

    def _config_29(self, event: Event) -> None:
        d = event.data
        cfg = d["Configuration"]
        m = _ELEMENT.search(cfg)
        deleted = d.get("EditOperationType") == "3" or (m is not None and m.group(2).lower() == "remove")
        if m is not None and deleted:
            item = f"removed {m.group(1)} {m.group(3)}"
            self._hit(("config_change", item.lower()), event, "config_change", item, "", via="eid 29", once=True)
            return
        if m is None:
            value = d.get("NewValue") or (f"(was {d.get('OldValue')})" if d.get("OldValue") else "")
            self._hit(("config_change", cfg.lower(), value.lower()), event, "config_change", cfg, value, via="eid 29")
            return
        section, name, attr = m.group(1), m.group(3), (m.group(4) or "").lower()
        if attr in _IMAGE_ATTRS:
            image = d.get("NewValue") or ""
            self._named.add((event.computer, name.lower()))
            self._register(event, name, image, f"eid 29 {section}")
        else:  # @name, @lockItem, @preCondition...: count once per change, only when no image event names it
            self._pending_names.setdefault((event.computer, name.lower(), section), []).append(
                (name, event.time_created)
            )

    def _command(self, event: Event) -> None:
        d = event.data
        text = d.get("CommandLine") or d.get("ScriptBlockText") or ""
        if not _REGISTERS.search(text):
            return
        names = [n.strip() for n in _CMD_NAME.findall(text) if not n.strip().lower().endswith(".dll")]
        im = _CMD_IMAGE.search(text)
        image = im.group(1).strip() if im else ""
        via = "powershell 4104" if event.event_id == 4104 else f"command (EID {event.event_id})"
        self._register(event, names[0] if names else "(unnamed)", image, via)

    def _register(self, event: Event, name: str, image: str, via: str) -> None:
        key = ("registration", name.lower(), normalise_path(image) if image else "")
        self._hit(key, event, "registration", name, image, via=via, once=via.startswith("eid 29"))

    def entries(self) -> list[StackEntry]:
        """The stack, rarest first: fewest hosts, then fewest events, then earliest first seen."""
        self._flush_names()
        out = list(self._by_key.values())
        for e in out:
            _judge(e)
        return sorted(out, key=lambda e: (len(e.hosts), e.events, e.first, e.kind, e.item.lower()))

    def _flush_names(self) -> None:
        pending, self._pending_names = self._pending_names, {}
        for (host, low, section), seen in pending.items():
            if (host, low) in self._named:
                continue
            changes = {t[:19]: (name, t) for name, t in seen}  # the attribute events of one change share a second
            for name, t in changes.values():
                self._register(Event("", "", 29, host, t, None, None, {}), name, "", f"eid 29 {section}")


def _judge(e: StackEntry) -> None:
    if e.kind == "config_change":
        e.baseline = "n/a"
        return
    if e.kind == "registration":
        v = judge(e.item, e.detail or None)
        e.baseline, e.reasons = v.status, v.reasons
        return
    signer = e.signer.split(" (", 1)[0]
    for m in load_baseline():
        if m.image and normalise_path(m.image) == normalise_path(e.item):
            v = judge(m.name, e.item, signer or None)
            e.baseline, e.reasons = v.status, v.reasons
            return
    e.baseline = "not_in_baseline"


def stack_events(events: Iterable[Event]) -> list[StackEntry]:
    s = Stacker()
    for ev in events:
        s.add(ev)
    return s.entries()
