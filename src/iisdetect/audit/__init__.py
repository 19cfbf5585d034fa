"""Audit the IIS server itself: what its configuration makes w3wp.exe load, judged, dated and triaged.

Logs show a module install only if the right logging was on; the persistence itself lives in
applicationHost.config, web.config and the CFGHISTORY snapshots. ``run.audit`` reads them from a triage
package (``package``), parses them defensively (``xmlsafe``), lists every registration (``entries``), judges
each against the module baseline (``judge``), diffs the history (``history``) and triages the DLLs
(``pe``/``dotnet``/``dlls``); findings are hunt ``Alert``s (``findings``). Guide: docs/audit.md.
"""
