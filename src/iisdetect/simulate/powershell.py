"""PowerShell script-block logging, EID 4104 on Microsoft-Windows-PowerShell/Operational.

Why: ART T1505.004 test 2 (``New-WebGlobalModule``) and the seed's Get-WebGlobalModule audit are
PowerShell; with script-block logging the cmdlet text is visible even when the process command line
is just ``powershell.exe``. Long blocks are split into several 4104 records (MessageNumber/Total).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from iisdetect.simulate.model import Built, Provider, SystemInfo, digest
from iisdetect.simulate.process import Process

PROVIDER = Provider(
    "Microsoft-Windows-PowerShell",
    "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}",
    "Microsoft-Windows-PowerShell/Operational",
    exec_pid=0,  # the hosting powershell.exe; replaced by the process pid per event
)
#: PowerShell splits script blocks at roughly this many characters.
CHUNK = 10_000


def script_block(
    proc: Process, when: datetime, text: str, path: str, thread_id: int, warning: bool = False
) -> list[Built]:
    """One or more 4104 records for a script block; Level 3 (Warning) when AMSI flags it suspicious."""
    block_id = str(uuid.UUID(bytes=digest("sb", proc.guid, text, when.isoformat())[:16], version=4))
    parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    out = []
    for number, part in enumerate(parts, 1):
        data = {
            "MessageNumber": str(number),
            "MessageTotal": str(len(parts)),
            "ScriptBlockText": part,
            "ScriptBlockId": block_id,
            "Path": path,
        }
        provider = PROVIDER.__class__(PROVIDER.name, PROVIDER.guid, PROVIDER.channel, proc.pid)
        system = SystemInfo(provider, 1, 3 if warning else 5, 2, 15, "0x0", thread_id)
        out.append(Built(4104, data, system, proc.user_sid, frozenset({"MessageNumber", "MessageTotal"}), 1))
    return out
