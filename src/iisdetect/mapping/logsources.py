"""Load ``mapping/logsources.yaml``: which Windows logs a Sigma logsource means, per variant.

Also the field derivations a variant may declare (``derived:``): fields Sigma rules name that a
source does not log under that name but that follow from fields it does log (Security 4688 has no
``User``, only ``SubjectDomainName`` and ``SubjectUserName``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from iisdetect.engine import ir
from iisdetect.model.event import Event


@dataclass(frozen=True)
class LogsourceVariant:
    """One concrete place (channel/provider + EventIDs) and its field renames."""

    name: str
    source: ir.Source
    fields: tuple[tuple[str, str], ...]
    conditions: tuple[tuple[str, tuple[str, ...]], ...]
    #: every field this source can have (after renaming), or empty when not declared
    has_fields: frozenset[str] = frozenset()


#: Well-known SIDs whose account Windows renders under ``NT AUTHORITY`` (Sysmon's ``User``), while
#: Security 4688 names the machine account (``HOST$`` in ``WORKGROUP``) for SYSTEM.
#: https://learn.microsoft.com/windows/win32/secauthz/well-known-sids
_WELL_KNOWN_USERS = {
    "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
    "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
}

#: Mandatory label SIDs -> Sysmon's IntegrityLevel words.
#: https://learn.microsoft.com/windows/win32/secauthz/mandatory-integrity-control
_INTEGRITY = {
    "S-1-16-0": "Untrusted",
    "S-1-16-4096": "Low",
    "S-1-16-8192": "Medium",
    "S-1-16-8448": "Medium",  # Medium Plus: Sysmon reports it as Medium
    "S-1-16-12288": "High",
    "S-1-16-16384": "System",
    "S-1-16-20480": "Protected",
}


def domain_user(ev: Event) -> str | None:
    """``DOMAIN\\user`` of the Subject (Sysmon's ``User`` form); NT AUTHORITY names for service SIDs."""
    data = ev.data
    known = _WELL_KNOWN_USERS.get((data.get("SubjectUserSid") or "").upper())
    if known:
        return known
    user = data.get("SubjectUserName")
    if not user or user == "-":
        return None
    domain = data.get("SubjectDomainName")
    return f"{domain}\\{user}" if domain and domain != "-" else user


def integrity_level(ev: Event) -> str | None:
    """``MandatoryLabel`` (a SID) -> ``Low``/``Medium``/``High``/``System`` as Sysmon writes it."""
    label = ev.data.get("MandatoryLabel")
    if label is None:
        return None
    return _INTEGRITY.get(label.upper(), label)


DERIVATIONS: dict[str, Callable[[Event], str | None]] = {
    "domain_user": domain_user,
    "integrity_level": integrity_level,
}


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
            derived = tuple((v.get("derived") or {}).items())
            unknown = [how for _, how in derived if how not in DERIVATIONS]
            if unknown:
                raise ValueError(f"logsource {key}/{v['name']}: unknown derivation(s) {unknown}")
            out.append(
                LogsourceVariant(
                    name=v["name"],
                    source=ir.Source(
                        name=v["name"],
                        channels=tuple(src.get("channels") or ()),
                        providers=tuple(src.get("providers") or ()),
                        event_ids=tuple(int(i) for i in v.get("event_ids") or ()),
                        derived=derived,
                    ),
                    fields=tuple((v.get("fields") or {}).items()),
                    conditions=tuple(
                        (f, tuple(str(x) for x in vals)) for f, vals in (v.get("conditions") or {}).items()
                    ),
                    has_fields=frozenset(v.get("has_fields") or ()),
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
