"""Application log EID 2282 from the IIS worker process: "The Module DLL '%1' failed to load".

Why: a module registered with a wrong or blocked path fails in every worker start; Splunk's
"Windows IIS Components Module Failed to Load" keys on it. The provider is
``Microsoft-Windows-IIS-W3SVC-WP`` (Splunk shows it as ``Name``), a classic-style event with
``Qualifiers`` 49152 and Level 2; EventData carries ``ModuleDll`` (the DLL path as configured) and
the Win32 error in the binary data (not simulated: readers ignore ``<Binary>``).
"""

from __future__ import annotations

from datetime import datetime

from iisdetect.simulate.model import Built, Provider, SystemInfo
from iisdetect.simulate.process import Process

PROVIDER = Provider(
    "Microsoft-Windows-IIS-W3SVC-WP",
    "{670080D9-742A-4187-8D16-41143D1290BD}",
    "Application",
    exec_pid=0,
    classic=True,
)


def module_load_failed(proc: Process, when: datetime, module_dll: str, thread_id: int) -> Built:
    """EID 2282 written by the failing w3wp.exe."""
    del when
    provider = Provider(PROVIDER.name, PROVIDER.guid, PROVIDER.channel, proc.pid, classic=True)
    system = SystemInfo(provider, 0, 2, 0, 0, "0x80000000000000", thread_id, qualifiers=49152)
    return Built(2282, {"ModuleDll": module_dll}, system, None, frozenset(), 0)
