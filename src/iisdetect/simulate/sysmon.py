"""Sysmon (schema 4.90, Sysmon 15) events 1, 7, 11 and 13, fields in the order Sysmon writes them.

Why exact order and formats: readers, Sigma field mappings and analysts all rely on Sysmon's own
names and renderings (``UtcTime`` with milliseconds, ProcessGuid in braces, ``Hashes`` as
``SHA1=..,MD5=..,SHA256=..,IMPHASH=..``, ``Signed`` as ``true``/``false``).

Format sources (real records as pyevtx renders them, in ../shared/corpus): EID 1 v5 from
sbousseaden/EVTX-ATTACK-SAMPLES ``UACME_59_Sysmon.evtx`` (Level 4, Task 1, Keywords 0x8000000000000000,
Security UserID S-1-5-18, ``ProcessId``/``TerminalSessionId``/``ParentProcessId`` typed integers); EID 7 v3
from mdecrevoisier/EVTX-to-MITRE-Attack ``TA0006-Credential Access/T1003-Credential dumping/ID1-LSASS dump
with LSASSY (SYSMON).evtx`` (unsigned images: ``Signed`` "false", ``Signature`` "-", ``SignatureStatus``
"Unavailable"). Sysmon 13+ writes ``RuleName`` "-" when no rule name applies (older builds wrote "").
pyevtx prints GUID-typed values without braces; the evtx-json writer keeps them (docs/scenarios.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iisdetect.simulate.model import Built, Provider, SystemInfo, file_hashes, sysmon_time
from iisdetect.simulate.process import Process

PROVIDER = Provider(
    "Microsoft-Windows-Sysmon",
    "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
    "Microsoft-Windows-Sysmon/Operational",
    exec_pid=3120,
)
_KEYWORDS = "0x8000000000000000"
#: Sysmon runs as SYSTEM: the System/Security UserID of every Sysmon event.
_SID = "S-1-5-18"


def _system(event_id: int, version: int, thread_id: int) -> SystemInfo:
    return SystemInfo(PROVIDER, version, 4, event_id, 0, _KEYWORDS, thread_id)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """PE version-info and Authenticode facts Sysmon reports for a loaded image."""

    path: str
    signed: bool = True
    signature: str = "Microsoft Windows"
    status: str = "Valid"
    file_version: str = "10.0.20348.1 (WinBuild.160101.0800)"
    description: str = "-"
    product: str = "Microsoft® Windows® Operating System"
    company: str = "Microsoft Corporation"
    original_file_name: str = ""
    variant: str = ""


def _process_head(proc: Process, when: datetime) -> dict[str, str]:
    """The five fields every process-scoped Sysmon event starts with, in Sysmon's order."""
    return {
        "RuleName": "-",
        "UtcTime": sysmon_time(when),
        "ProcessGuid": proc.guid,
        "ProcessId": str(proc.pid),
        "Image": proc.image,
    }


def process_create(proc: Process, when: datetime, thread_id: int) -> Built:
    """EID 1. Parent fields come from the parent ``Process`` so ids match its own events."""
    parent = proc.parent
    data = {
        **_process_head(proc, when),
        "FileVersion": proc.file_version,
        "Description": proc.description,
        "Product": proc.product,
        "Company": proc.company,
        "OriginalFileName": proc.original_file_name,
        "CommandLine": proc.command_line,
        "CurrentDirectory": proc.cwd,
        "User": proc.user,
        "LogonGuid": proc.logon_guid,
        "LogonId": proc.logon_id,
        "TerminalSessionId": "0",
        "IntegrityLevel": proc.integrity,
        "Hashes": proc.hashes,
        "ParentProcessGuid": parent.guid if parent else "{00000000-0000-0000-0000-000000000000}",
        "ParentProcessId": str(parent.pid) if parent else "0",
        "ParentImage": parent.image if parent else "-",
        "ParentCommandLine": parent.command_line if parent else "-",
        "ParentUser": parent.user if parent else "-",
    }
    ints = frozenset({"ProcessId", "TerminalSessionId", "ParentProcessId"})
    return Built(1, data, _system(1, 5, thread_id), _SID, ints, 3)


def image_load(proc: Process, when: datetime, image: ImageInfo, thread_id: int) -> Built:
    """EID 7. Unsigned images render ``Signature`` as ``-`` and status ``Unavailable`` like Sysmon."""
    data = {
        **_process_head(proc, when),
        "ImageLoaded": image.path,
        "FileVersion": image.file_version,
        "Description": image.description,
        "Product": image.product,
        "Company": image.company,
        "OriginalFileName": image.original_file_name or image.path.rsplit("\\", 1)[-1],
        "Hashes": file_hashes(image.path, image.variant),
        "Signed": "true" if image.signed else "false",
        "Signature": image.signature if image.signed else "-",
        "SignatureStatus": image.status if image.signed else "Unavailable",
        "User": proc.user,
    }
    return Built(7, data, _system(7, 3, thread_id), _SID, frozenset({"ProcessId"}), 2)


def file_create(proc: Process, when: datetime, target: str, thread_id: int) -> Built:
    """EID 11. ``CreationUtcTime`` equals ``UtcTime`` for a new file (Sysmon reports both)."""
    data = {
        **_process_head(proc, when),
        "TargetFilename": target,
        "CreationUtcTime": sysmon_time(when),
        "User": proc.user,
    }
    return Built(11, data, _system(11, 2, thread_id), _SID, frozenset({"ProcessId"}), 2)


def registry_set(proc: Process, when: datetime, target_object: str, details: str, thread_id: int) -> Built:
    """EID 13 SetValue. ``Details`` is the rendered value (``DWORD (0x00000001)`` or the string)."""
    data = {
        "RuleName": "-",
        "EventType": "SetValue",
        "UtcTime": sysmon_time(when),
        "ProcessGuid": proc.guid,
        "ProcessId": str(proc.pid),
        "Image": proc.image,
        "TargetObject": target_object,
        "Details": details,
        "User": proc.user,
    }
    return Built(13, data, _system(13, 2, thread_id), _SID, frozenset({"ProcessId"}), 1)
