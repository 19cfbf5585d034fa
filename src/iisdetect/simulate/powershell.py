"""PowerShell script-block logging, EID 4104, for Windows PowerShell 5.1 and PowerShell 7.

Format source: real 4104 records as pyevtx renders them, e.g. sbousseaden/EVTX-ATTACK-SAMPLES
``Credential Access/phish_windows_credentials_powershell_scriptblockLog_4104.evtx`` (in ../shared/corpus):
provider Microsoft-Windows-PowerShell {A0C1853B-5C40-4B15-8766-3CF1C58F985A}, channel
Microsoft-Windows-PowerShell/Operational, ``Version`` 1, ``Task`` 2 (Execute a Remote Command /
CommandStart), ``Opcode`` 15 (On create calls), ``Keywords`` 0x0, ``Level`` 5 (Verbose) or 3 (Warning, when
PowerShell flags the block as suspicious); EventData ``MessageNumber``/``MessageTotal`` as integers,
``ScriptBlockText``, ``ScriptBlockId`` (a lower-case GUID without braces), ``Path``.

PowerShell 7 (pwsh.exe) logs the same event to its own log: provider ``PowerShellCore``
{f90714a8-5509-434a-bf6d-b1624c8a19a2}, channel ``PowerShellCore/Operational``, EventId 4104, Level Verbose,
Opcode Create, Task CommandStart (MicrosoftDocs/PowerShell-Docs, about_Logging_Windows). A rule that reads
only Microsoft-Windows-PowerShell/Operational misses every pwsh.exe script block.
Long blocks are split into several records (MessageNumber/Total).
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
CORE_PROVIDER = Provider("PowerShellCore", "{F90714A8-5509-434A-BF6D-B1624C8A19A2}", "PowerShellCore/Operational", 0)
#: PowerShell splits script blocks at roughly this many characters.
CHUNK = 10_000


def script_block(
    proc: Process, when: datetime, text: str, path: str, thread_id: int, warning: bool = False, core: bool = False
) -> list[Built]:
    """One or more 4104 records for a script block; Level 3 (Warning) when flagged suspicious."""
    block_id = str(uuid.UUID(bytes=digest("sb", proc.guid, text, when.isoformat())[:16], version=4))
    parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    base = CORE_PROVIDER if core else PROVIDER
    provider = Provider(base.name, base.guid, base.channel, proc.pid)
    out = []
    for number, part in enumerate(parts, 1):
        data = {
            "MessageNumber": str(number),
            "MessageTotal": str(len(parts)),
            "ScriptBlockText": part,
            "ScriptBlockId": block_id,
            "Path": path,
        }
        system = SystemInfo(provider, 1, 3 if warning else 5, 2, 15, "0x0", thread_id)
        out.append(Built(4104, data, system, proc.user_sid, frozenset({"MessageNumber", "MessageTotal"}), 1))
    return out
