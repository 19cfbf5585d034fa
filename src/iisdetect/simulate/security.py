"""Security-Auditing 4688 (process creation, with command line) and 4663 (object access).

Why both: many IIS servers ship Security auditing but no Sysmon; 4688 carries the same appcmd /
PowerShell command lines, and 4663 (SACL on ``applicationHost.config``) is how direct config edits
are seen when IIS-Configuration EID 29 stays silent (TRR0029 lab: a Notepad edit logs no EID 29).

Format source (real 4688 v2 as pyevtx renders it, in ../shared/corpus): mdecrevoisier/EVTX-to-MITRE-Attack
``TA0008-Lateral Movement/T1550-Use Alternate Authentication Material/ID4624-Mimikatz Pass the hash.evtx``:
Level 0, Task 13312, Keywords 0x8020000000000000, Execution ProcessID 4, no Security UserID; SYSTEM as
``SubjectUserSid`` S-1-5-18 / ``SubjectUserName`` ``HOST$`` / ``SubjectLogonId`` 0x3e7; ``NewProcessId`` and
``ProcessId`` (the creator) in hex strings; ``TokenElevationType`` ``%%1936``; ``TargetUserSid`` S-1-0-0 when
the new process runs as its creator. Windows Server 2016+ add ``ParentProcessName`` and ``MandatoryLabel``.
"""

from __future__ import annotations

from datetime import datetime

from iisdetect.simulate.model import Built, Provider, SystemInfo
from iisdetect.simulate.process import Process

PROVIDER = Provider(
    "Microsoft-Windows-Security-Auditing",
    "{54849625-5478-4994-A5BA-3E3B0328C30D}",
    "Security",
    exec_pid=4,
)
_KEYWORDS = "0x8020000000000000"
_LABELS = {
    "Low": "S-1-16-4096",
    "Medium": "S-1-16-8192",
    "High": "S-1-16-12288",
    "System": "S-1-16-16384",
}


def _short(host: str) -> tuple[str, str]:
    """(NetBIOS computer name, NetBIOS domain) from an FQDN like ``WEB01.corp.local``."""
    name, _, rest = host.partition(".")
    return name.upper(), (rest.partition(".")[0] or "WORKGROUP").upper()


def _subject(proc: Process | None, host: str) -> dict[str, str]:
    """Subject fields: the account that caused the event; machine accounts render as ``HOST$``."""
    name, domain = _short(host)
    if proc is None or proc.user_sid in ("S-1-5-18", "S-1-5-20"):
        return {
            "SubjectUserSid": "S-1-5-18" if proc is None else proc.user_sid,
            "SubjectUserName": f"{name}$",
            "SubjectDomainName": domain,
            "SubjectLogonId": "0x3e7" if proc is None else proc.logon_id,
        }
    user_domain, user_name = proc.domain_user
    return {
        "SubjectUserSid": proc.user_sid,
        "SubjectUserName": user_name,
        "SubjectDomainName": user_domain,
        "SubjectLogonId": proc.logon_id,
    }


def process_creation(proc: Process, when: datetime, thread_id: int) -> Built:
    """4688 v2. Pids are hex, ``ProcessId`` is the *creator's* pid, as Windows writes them."""
    del when  # the time is the record's TimeCreated; 4688 has no own timestamp field
    data = _subject(proc.parent, proc.host)
    same_user = proc.parent is not None and proc.parent.user_sid == proc.user_sid
    user_domain, user_name = proc.domain_user
    data |= {
        "NewProcessId": hex(proc.pid),
        "NewProcessName": proc.image,
        "TokenElevationType": "%%1936" if proc.integrity in ("High", "System") else "%%1938",
        "ProcessId": hex(proc.parent.pid) if proc.parent else "0x0",
        "CommandLine": proc.command_line,
        "TargetUserSid": "S-1-0-0" if same_user else proc.user_sid,
        "TargetUserName": "-" if same_user else user_name,
        "TargetDomainName": "-" if same_user else user_domain,
        "TargetLogonId": "0x0" if same_user else proc.logon_id,
        "ParentProcessName": proc.parent.image if proc.parent else "",
        "MandatoryLabel": _LABELS.get(proc.integrity, "S-1-16-12288"),
    }
    system = SystemInfo(PROVIDER, 2, 0, 13312, 0, _KEYWORDS, thread_id)
    return Built(4688, data, system, None, frozenset(), 1)


def object_access(proc: Process, when: datetime, object_name: str, access_mask: str, thread_id: int) -> Built:
    """4663 on a file (needs a SACL): ``AccessMask 0x2`` / ``%%4417`` is WriteData."""
    del when
    access_list = {"0x2": "%%4417", "0x4": "%%4418", "0x6": "%%4417 %%4418", "0x1": "%%4416"}
    handle = 0x1C4 + (proc.pid % 0x200) * 4
    data = _subject(proc, proc.host) | {
        "ObjectServer": "Security",
        "ObjectType": "File",
        "ObjectName": object_name,
        "HandleId": hex(handle),
        "AccessList": access_list.get(access_mask, "%%4417"),
        "AccessMask": access_mask,
        "ProcessId": hex(proc.pid),
        "ProcessName": proc.image,
        "ResourceAttributes": "S:AI",
    }
    system = SystemInfo(PROVIDER, 1, 0, 12800, 0, _KEYWORDS, thread_id)
    return Built(4663, data, system, None, frozenset(), 1)
