"""IIS configuration audit on Microsoft-IIS-Configuration/Operational: EID 29 per change, EID 50 per commit.

Format source (a real record, exported from Event Viewer, public): blog.sqeye.net, "Splunk Use Case: IIS
Configuration Changes on Windows Server" (https://blog.sqeye.net/post/splunk-use-case-iis-configuration-changes-on-windows-server1).
One IIS Manager edit there logged three EID 29 and one EID 50. That record shows what this builder copies:

- System: ``Version`` 0, ``Level`` 4, ``Task`` 0, ``Opcode`` 0, ``Keywords`` ``0x4000000000000000``, provider
  GUID ``{dc0b8e51-4863-407a-bc3c-1b479b2978ac}``, ``Security UserID`` = the editing user's SID, ``Execution
  ProcessID`` = the editing process.
- ``PhysicalPath`` with the Win32 long-path prefix: ``\\\\?\\C:\\inetpub\\wwwroot\\web.config``.
- ``Configuration`` with the element key in **double quotes**: ``/system.web/customErrors/error[@statusCode="404"]``.
- The element itself is one record (``EditOperationType`` 1, ``OldValue`` and ``NewValue`` empty), followed
  by one record per attribute. ``EditOperationType`` is 1 for an element add and for an attribute value
  (created or changed alike, as the issue notes), 2 for a deletion (inference: no public deletion record).

TRR0029's lab (McBeer89/Tired-Labs-McBeer-Repo) saw four EID 29 for one ``appcmd add module``, consistent
with "element + attributes". EID 50 (the commit) carries the changed file and configuration path; its
EventData names were not in the public sample and are an inference (``PhysicalPath``, ``ConfigPath``).
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
APPHOST = "\\\\?\\C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config"
#: EditOperationType as Windows writes it: an add and a value change share 1 (real sample); delete 2.
OPS = {"add": "1", "set": "1", "delete": "2"}
_KEYWORDS = "0x4000000000000000"
_LEVEL = 4


def long_path(path: str) -> str:
    """``C:\\x`` -> ``\\\\?\\C:\\x`` as IIS writes PhysicalPath; already-prefixed paths are kept."""
    if path.startswith("\\\\?\\") or path[1:3] != ":\\":
        return path
    return "\\\\?\\" + path


@dataclass(frozen=True, slots=True)
class ConfigEdit:
    """One audited change: an element (empty values) or one attribute."""

    configuration: str
    op: str  # add | set | delete
    old: str = ""
    new: str = ""
    config_path: str = "MACHINE/WEBROOT/APPHOST"
    location: str = ""
    physical_path: str = APPHOST


def _system(proc: Process, thread_id: int) -> SystemInfo:
    provider = Provider(PROVIDER.name, PROVIDER.guid, PROVIDER.channel, proc.pid)
    return SystemInfo(provider, 0, _LEVEL, 0, 0, _KEYWORDS, thread_id)


def config_change(proc: Process, when: datetime, edit: ConfigEdit, thread_id: int) -> Built:
    """One EID 29 record; logged in the editing process, under the editing user's SID."""
    del when
    data = {
        "PhysicalPath": long_path(edit.physical_path),
        "ConfigPath": edit.config_path,
        "EffectiveLocationPath": edit.location,
        "Configuration": edit.configuration,
        "EditOperationType": OPS[edit.op],
        "OldValue": edit.old,
        "NewValue": edit.new,
    }
    return Built(29, data, _system(proc, thread_id), proc.user_sid, frozenset({"EditOperationType"}), 0)


def commit(proc: Process, edit: ConfigEdit, thread_id: int) -> Built:
    """The EID 50 that follows the EID 29 burst of one committed change (one per file)."""
    data = {"PhysicalPath": long_path(edit.physical_path), "ConfigPath": edit.config_path}
    return Built(50, data, _system(proc, thread_id), proc.user_sid, frozenset(), 0)


def element_key(section: str, key: str, quote: str = '"') -> str:
    """``/section/add[@name="key"]`` (ISAPI filters are ``filter`` elements)."""
    element = "filter" if section.endswith("isapiFilters") else "add"
    return f"/{section}/{element}[@name={quote}{key}{quote}]"


def element_edits(section: str, key: str, attributes: dict[str, str], op: str, **where: str) -> list[ConfigEdit]:
    """The element record, then one record per attribute (name first), as IIS audits an add/set/delete.

    A ``set`` (an existing element's attribute changed in place) has no element record; scenarios that
    need the old value of a change write raw ``edits``.
    """
    base = element_key(section, key)
    edits = [] if op == "set" else [ConfigEdit(base, op, **where)]
    for attr, value in attributes.items():
        old, new = (value, "") if op == "delete" else ("", value)
        edits.append(ConfigEdit(f"{base}/@{attr}", op, old, new, **where))
    return edits
