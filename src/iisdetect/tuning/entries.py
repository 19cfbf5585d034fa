"""Tuning: allow-list entries compiled INTO the rules, so every target (and later every SIEM export) carries them.

A tuning file is YAML with one list, ``entries``; each entry has a unique ``name`` and any of the
matchers below. Keys of one entry AND together; several values under one key OR together. An entry
may be scoped to some ``rules`` (ids) and/or ``detection_types``; without scope it applies to every rule.

=============  ========================================================================================
key            what it matches (case-insensitive; an absent field never matches)
=============  ========================================================================================
image          acting process image, FULL path glob (``*``, ``?``): ``Image`` (Sysmon),
               ``NewProcessName`` (4688), ``ProcessName`` (4663)
signer         ``Signature`` equals the value; with ``signer_valid: true`` (default) also
               ``SignatureStatus`` = ``Valid``
dll            DLL / file path glob: ``ImageLoaded``, ``TargetFilename``, ``ObjectName``, ``ModuleDll``,
               ``NewValue`` (the image attribute of an EID 29 change), ``Details`` (registry data)
hash           SHA256 (64 hex digits) inside Sysmon ``Hashes`` (``...,SHA256=<hex>,...``)
module         registered module name: EID 29 ``Configuration`` element key ``[@name='X']`` or
               ``NewValue`` = X; ``/name:X`` / ``-name:X`` (appcmd) and ``-Name X`` (PowerShell) in
               ``CommandLine`` or ``ScriptBlockText``
host           ``Computer`` glob
user           ``User`` (``DOMAIN\\user``) or ``SubjectUserName`` glob
windows        maintenance windows, UTC, on the ``TimeCreated`` system field: absolute
               ``{from: ISO, to: ISO}`` and/or weekly ``{days: [sat, sun], start: "22:00", end: "02:00"}``
               (an ``end`` at or before ``start`` crosses midnight into the next day)
=============  ========================================================================================

How time windows stay pure IR (no new node type): ``TimeCreated`` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ``,
so string order is time order. ``t >= X`` becomes a regex over the fixed-width prefix (one alternative
per digit position: ``X[:i]`` then a larger digit), and ``X <= t < Y`` is ``ge(X) and not ge(Y)``.
Weekdays cannot be computed by a regex, so a weekly window is expanded into the explicit dates of
those weekdays (grouped per month) over its own ``from``/``to`` bounds, or over the default horizon
2020-01-01 .. 2039-12-31 when it has none. Every target that evaluates a regex evaluates tuning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iisdetect.engine import ir
from iisdetect.engine.evaluate import compile_node
from iisdetect.errors import UsageError
from iisdetect.mapping.fields import role, roles
from iisdetect.model.event import Event
from iisdetect.model.userfiles import read_yaml
from iisdetect.tuning.windows import windows_node

# the fields each match key tests: roles from mapping/fields.yaml (shared with alerts and correlation)
IMAGE_FIELDS = role("acting_process")
DLL_FIELDS = roles("dll_file", "config_value")
USER_FIELDS = role("user")
TEXT_FIELDS = role("module_command")
MATCH_KEYS = ("image", "signer", "dll", "hash", "module", "host", "user", "windows")
ALLOWED_KEYS = frozenset({"name", "reason", "rules", "detection_types", "signer_valid", *MATCH_KEYS})
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class TuningEntry:
    """One allow-list entry: ``node`` is its IR (all keys AND-ed); scope limits the rules it applies to."""

    name: str
    node: ir.Node
    rules: frozenset[str] = frozenset()
    detection_types: frozenset[str] = frozenset()
    reason: str = ""

    def applies_to(self, rule: ir.CompiledRule) -> bool:
        if self.rules and rule.id not in self.rules:
            return False
        return not self.detection_types or rule.detection_type in self.detection_types


@dataclass
class Tuning:
    entries: list[TuningEntry]
    path: str = ""
    _preds: dict[str, Callable[[Event], bool]] = field(default_factory=dict, repr=False)

    def apply(self, rule: ir.CompiledRule) -> ir.CompiledRule:
        """The rule with every in-scope entry compiled in: ``And(cond, Not(Or(entries)))`` per variant."""
        scoped = [e for e in self.entries if e.applies_to(rule)]
        if not scoped:
            return rule
        filt = scoped[0].node if len(scoped) == 1 else ir.Or(tuple(e.node for e in scoped))
        variants = tuple(ir.Variant(v.source, ir.And((v.condition, ir.Not(filt)))) for v in rule.variants)
        custom = dict(rule.custom)
        custom["tuning"] = [e.name for e in scoped]
        return replace(rule, variants=variants, custom=custom)

    def suppressing_entry(self, rule: ir.CompiledRule, event: Event) -> str | None:
        """Name of the first in-scope entry matching ``event`` (a hit of the untuned ``rule``), else None."""
        for entry in self.entries:
            if entry.applies_to(rule):
                pred = self._preds.get(entry.name)
                if pred is None:
                    pred = self._preds[entry.name] = compile_node(entry.node)
                if pred(event):
                    return entry.name
        return None

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]


# --------------------------------------------------------------------------------------------- loading


def load_tuning(path: str | Path) -> Tuning:
    """Parse and validate a tuning file; any problem raises ``UsageError`` naming file, entry and key."""
    return parse_tuning(read_yaml(path, "tuning file"), str(Path(path)))


def parse_tuning(raw: Any, where: str = "<tuning>") -> Tuning:
    if raw is None:
        return Tuning([], where)
    if not isinstance(raw, dict) or set(raw) - {"entries"}:
        extra = sorted(set(raw) - {"entries"}) if isinstance(raw, dict) else None
        detail = f"unknown top-level key(s) {extra}" if extra else "expected a mapping with an 'entries' list"
        raise UsageError(f"tuning file {where}: {detail}")
    items = raw.get("entries") or []
    if not isinstance(items, list):
        raise UsageError(f"tuning file {where}: 'entries' must be a list")
    entries: list[TuningEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        label = f"tuning file {where}: entry #{i + 1}"
        if not isinstance(item, dict):
            raise UsageError(f"{label}: expected a mapping, got {type(item).__name__}")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{label}: 'name' is required (a non-empty string)")
        label = f"tuning file {where}: entry {name!r}"
        if name in seen:
            raise UsageError(f"{label}: duplicate name")
        seen.add(name)
        entries.append(_entry(item, name, label))
    return Tuning(entries, where)


def _entry(item: dict[str, Any], name: str, label: str) -> TuningEntry:
    unknown = sorted(set(item) - ALLOWED_KEYS)
    if unknown:
        raise UsageError(f"{label}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(ALLOWED_KEYS))})")
    parts: list[ir.Node] = []
    for key in MATCH_KEYS:
        if key not in item:
            continue
        if key == "windows":
            parts.append(windows_node(item[key], f"{label}, key 'windows'"))
            continue
        values = _strings(item[key], f"{label}, key {key!r}")
        parts.append(ir.any_of([_MATCHERS[key](v, item, f"{label}, key {key!r}") for v in values]))
    if "signer_valid" in item and not isinstance(item["signer_valid"], bool):
        raise UsageError(f"{label}, key 'signer_valid': expected true or false")
    if not parts:
        raise UsageError(f"{label}: no matcher (use one of {', '.join(MATCH_KEYS)}); it would suppress everything")
    rules = frozenset(_strings(item["rules"], f"{label}, key 'rules'")) if "rules" in item else frozenset()
    dtypes = (
        frozenset(_strings(item["detection_types"], f"{label}, key 'detection_types'"))
        if "detection_types" in item
        else frozenset()
    )
    reason = item.get("reason") or ""
    if not isinstance(reason, str):
        raise UsageError(f"{label}, key 'reason': expected a string")
    node = parts[0] if len(parts) == 1 else ir.And(tuple(parts))
    return TuningEntry(name, node, rules, dtypes, reason)


def _strings(value: Any, label: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise UsageError(f"{label}: empty list")
    for v in values:
        if not isinstance(v, str) or not v:
            raise UsageError(f"{label}: expected a non-empty string or a list of them, got {v!r}")
    return values


# -------------------------------------------------------------------------------------------- matchers


def glob_node(fld: str, pattern: str) -> ir.Node:
    """A full-string, case-insensitive glob (``*``, ``?``) as IR; plain strings become equality."""
    parts: list[object] = []
    for ch in pattern:
        if ch == "*":
            if not parts or parts[-1] is not ir.STAR:
                parts.append(ir.STAR)
        elif ch == "?":
            parts.append(ir.ONE)
        elif parts and isinstance(parts[-1], str):
            parts[-1] = parts[-1] + ch
        else:
            parts.append(ch)
    if len(parts) == 1 and isinstance(parts[0], str):
        return ir.Str(fld, "eq", parts[0])
    return ir.Glob(fld, tuple(parts))


def _globs(fields: Iterable[str], pattern: str) -> ir.Node:
    return ir.any_of([glob_node(f, pattern) for f in fields])


def _image(value: str, item: dict[str, Any], label: str) -> ir.Node:
    if not (re.match(r"^[A-Za-z]:\\", value) or value.startswith("\\\\")):
        raise UsageError(
            f"{label}: {value!r} is not a full path (C:\\...\\x.exe); a bare name would exempt look-alikes"
        )
    return _globs(IMAGE_FIELDS, value)


def _signer(value: str, item: dict[str, Any], label: str) -> ir.Node:
    node: ir.Node = ir.Str("Signature", "eq", value)
    if item.get("signer_valid", True):
        node = ir.And((node, ir.Str("SignatureStatus", "eq", "Valid")))
    return node


def _dll(value: str, item: dict[str, Any], label: str) -> ir.Node:
    return _globs(DLL_FIELDS, value)


def _hash(value: str, item: dict[str, Any], label: str) -> ir.Node:
    hexval = value.split("=", 1)[1] if value.upper().startswith("SHA256=") else value
    if not _SHA256.match(hexval):
        raise UsageError(f"{label}: {value!r} is not a SHA256 (64 hex digits)")
    return ir.Str("Hashes", "contains", f"SHA256={hexval.upper()}")


def _module(value: str, item: dict[str, Any], label: str) -> ir.Node:
    name = re.escape(value)
    end = r"(?:[\"'\s,;)]|$)"
    nodes: list[ir.Node] = [
        ir.Regex("Configuration", rf"\[@name=[\"']{name}[\"']\]", True),
        ir.Str("NewValue", "eq", value),
    ]
    for fld in TEXT_FIELDS:
        nodes.append(ir.Regex(fld, rf"(?:^|[\s\"'])[-/]name:\s*[\"']?{name}{end}", True))
        nodes.append(ir.Regex(fld, rf"-Name\s+[\"']?{name}{end}", True))
    return ir.Or(tuple(nodes))


def _host(value: str, item: dict[str, Any], label: str) -> ir.Node:
    return glob_node("Computer", value)


def _user(value: str, item: dict[str, Any], label: str) -> ir.Node:
    return _globs(USER_FIELDS, value)


_MATCHERS: dict[str, Callable[[str, dict[str, Any], str], ir.Node]] = {
    "image": _image,
    "signer": _signer,
    "dll": _dll,
    "hash": _hash,
    "module": _module,
    "host": _host,
    "user": _user,
}
