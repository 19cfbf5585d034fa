"""Processes of a simulated host: one identity (pid, ProcessGuid, user) reused by every event.

Why: analysts and correlation rules join Sysmon 1/7/11, Security 4688 and PowerShell 4104 on the
process id and ProcessGuid; a simulator that re-rolled them per event would be unrealistic and would
hide correlation bugs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from iisdetect.simulate.model import file_hashes, logon_guid, process_guid

#: Well-known accounts: Sysmon ``User`` -> (SID, Security SubjectUserName, domain, LogonId).
ACCOUNTS: dict[str, tuple[str, str, str, str]] = {
    "NT AUTHORITY\\SYSTEM": ("S-1-5-18", "{host}$", "{domain}", "0x3e7"),
    "NT AUTHORITY\\NETWORK SERVICE": ("S-1-5-20", "{host}$", "{domain}", "0x3e4"),
    "NT AUTHORITY\\LOCAL SERVICE": ("S-1-5-19", "LOCAL SERVICE", "NT AUTHORITY", "0x3e5"),
}


def apppool_sid(pool: str) -> str:
    """IIS APPPOOL virtual accounts are S-1-5-82-<SHA1 of the lowercase pool name as 5 RIDs>."""
    import hashlib

    raw = hashlib.sha1(pool.lower().encode("utf-16-le"), usedforsecurity=False).digest()
    rids = [str(int.from_bytes(raw[i : i + 4], "little")) for i in range(0, 20, 4)]
    return "S-1-5-82-" + "-".join(rids)


@dataclass(slots=True)
class Process:
    """One running process as every producer sees it."""

    alias: str
    image: str
    command_line: str
    user: str
    pid: int
    start: datetime
    host: str
    seed: int
    parent: Process | None = None
    integrity: str = "High"
    cwd: str = "C:\\Windows\\system32\\"
    user_sid: str = ""
    logon_id: str = "0x3e7"
    file_version: str = "10.0.20348.1 (WinBuild.160101.0800)"
    description: str = "-"
    product: str = "Microsoft® Windows® Operating System"
    company: str = "Microsoft Corporation"
    original_file_name: str = "-"
    guid: str = field(default="")

    def __post_init__(self) -> None:
        if not self.guid:
            self.guid = process_guid(self.host, self.seed, self.pid, int(self.start.timestamp()))
        if self.original_file_name == "-":
            self.original_file_name = self.image.rsplit("\\", 1)[-1]

    @property
    def hashes(self) -> str:
        return file_hashes(self.image)

    @property
    def logon_guid(self) -> str:
        return logon_guid(self.host, self.logon_id)

    @property
    def domain_user(self) -> tuple[str, str]:
        """(domain, name) as Security events split ``User``."""
        domain, _, name = self.user.partition("\\")
        return domain, name


def resolve_account(user: str, sid: str | None, host: str, logon_id: str | None) -> tuple[str, str]:
    """SID and LogonId for a ``DOMAIN\\user`` string; scenario YAML may override both."""
    known = ACCOUNTS.get(user.upper()) if user.upper() in ACCOUNTS else None
    if user.upper().startswith("IIS APPPOOL\\"):
        return sid or apppool_sid(user.split("\\", 1)[1]), logon_id or "0x3e4"
    if known:
        return sid or known[0], logon_id or known[3]
    return sid or "S-1-5-21-3623811015-3361044348-30300820-1013", logon_id or "0x4f1a2"


def epoch(dt: datetime) -> int:
    return int(dt.replace(tzinfo=dt.tzinfo or UTC).timestamp())
