"""Application log: the IIS worker process reports a module or ISAPI filter it could not load.

Event IDs and messages (provider Microsoft-Windows-IIS-W3SVC-WP, event source W3SVC-WP), from Microsoft's
IIS 7 event reference and real occurrences:

- **2280** "The Module DLL %1 failed to load. The data is the error." A real occurrence (IIS 7.5, the
  Custom Logging DLL missing under shared configuration): http://www.pixelchef.net/post/the-module-dll-c-windows-system32-inetsrv-logcust-dll-failed-to-load-the-data-is-the-error/
  Named Data ``ModuleDll`` (the path as configured), the Win32 error in ``<Binary>``.
- **2214** "The HTTP Filter DLL %1 failed to load. The data is the error." (W3_EVENT_FILTER_DLL_LOAD_FAILED,
  https://docs.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/cc735094(v=ws.10)).
  The Data name ``FilterDll`` is an inference (no public rendered record was found).
- **2295** "Failed to find the RegisterModule entrypoint in the module DLL %1. The data is the error."
  (https://docs.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2008-r2-and-2008/cc735035(v=ws.10)):
  a DLL that is not an IIS module, registered as one. Named Data ``ModuleDll``.
- **2282** "The Module DLL %1 could not be loaded due to a configuration problem": a processor-architecture
  (bitness) mismatch; Splunk 40c2ba5b keys on it with ``Name`` and ``ModuleDll``.

All are classic-style records: ``EventID`` with ``Qualifiers`` 49152 (0xC000, error severity), Level 2.
The ``<Binary>`` error code is not simulated (the readers keep named Data only).
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
#: event id -> the named Data that carries the DLL path
FIELDS = {2280: "ModuleDll", 2282: "ModuleDll", 2295: "ModuleDll", 2214: "FilterDll"}


def module_load_failed(proc: Process, when: datetime, dll: str, thread_id: int, event_id: int = 2280) -> Built:
    """One load-failure record written by the failing w3wp.exe (``event_id`` one of :data:`FIELDS`)."""
    del when
    provider = Provider(PROVIDER.name, PROVIDER.guid, PROVIDER.channel, proc.pid, classic=True)
    system = SystemInfo(provider, 0, 2, 0, 0, "0x80000000000000", thread_id, qualifiers=49152)
    return Built(event_id, {FIELDS[event_id]: dll}, system, None, frozenset(), 0)
