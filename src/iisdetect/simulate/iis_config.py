"""IIS configuration audit, EID 29 on Microsoft-IIS-Configuration/Operational.

Why one event per attribute: the IIS configuration system audits each committed attribute change
separately (TRR0029 lab: one ``appcmd add module`` produced four EID 29 records). Rules must cope
with the burst; the simulator reproduces it so dedupe logic is exercised.

EventData (names as the provider's manifest declares them): ``PhysicalPath``, ``ConfigPath``,
``EffectiveLocationPath``, ``Configuration`` (an XPath-like ``/section/add[@name='X']/@attr``),
``EditOperationType``, ``OldValue``, ``NewValue``. ``EditOperationType`` is rendered as a number:
``1`` add (a collection element or attribute created), ``2`` set (attribute changed), ``3`` delete
(element removed; ``OldValue`` holds the old value, ``NewValue`` is empty). See docs/scenarios.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iisdetect.simulate.model import Built, Provider, SystemInfo
from iisdetect.simulate.process import Process

PROVIDER = Provider(
    "Microsoft-Windows-IIS-Configuration",
    "{DC0B8E51-4863-407A-BC3C-1B479B2978AC}",
    "Microsoft-IIS-Configuration/Operational",
    exec_pid=0,  # the editing process (appcmd, powershell, w3wp); set per event
)
APPHOST = "C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config"
OPS = {"add": "1", "set": "2", "delete": "3"}


@dataclass(frozen=True, slots=True)
class ConfigEdit:
    """One audited attribute change."""

    configuration: str
    op: str  # add | set | delete
    old: str = ""
    new: str = ""
    config_path: str = "MACHINE/WEBROOT/APPHOST"
    location: str = ""
    physical_path: str = APPHOST


def config_change(proc: Process, when: datetime, edit: ConfigEdit, thread_id: int) -> Built:
    """One EID 29 record; logged in the editing process, under the editing user's SID."""
    del when
    data = {
        "PhysicalPath": edit.physical_path,
        "ConfigPath": edit.config_path,
        "EffectiveLocationPath": edit.location,
        "Configuration": edit.configuration,
        "EditOperationType": OPS[edit.op],
        "OldValue": edit.old,
        "NewValue": edit.new,
    }
    provider = Provider(PROVIDER.name, PROVIDER.guid, PROVIDER.channel, proc.pid)
    system = SystemInfo(provider, 0, 4, 0, 0, "0x8000000000000000", thread_id)
    return Built(29, data, system, proc.user_sid, frozenset(), 0)


def element_edits(section: str, key: str, attributes: dict[str, str], op: str, **where: str) -> list[ConfigEdit]:
    """Expand ``add[@name=key]`` with attributes into one edit per attribute (name first)."""
    base = f"/{section}/add[@name='{key}']"
    edits = []
    for attr, value in attributes.items():
        old, new = (value, "") if op == "delete" else ("", value)
        edits.append(ConfigEdit(f"{base}/@{attr}", op, old, new, **where))
    return edits
