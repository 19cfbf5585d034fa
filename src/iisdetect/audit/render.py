"""Terminal table for audit findings (JSON/NDJSON/CSV reuse ``report.hunt_output`` unchanged).

Hunt's table shows event ids and process names that a configuration entry does not have, so the audit
prints its own: level and detection type, what is registered, where (file + XPath), and why. Every value
is configuration text from a possibly compromised host and goes through ``safe()`` as plain ``Text``.
"""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from iisdetect.audit.findings import AuditAlert
from iisdetect.report.hunt_output import LEVEL_STYLE, safe


def _what(a: AuditAlert) -> str:
    i = a.info
    if i.get("entry_kind"):
        what = f"{i['entry_kind']} {i.get('name') or ''!s}".strip()
        target = i.get("managed_type") or i.get("image") or ""
        return f"{what} -> {target}" if target else what
    return str(i.get("resolved") or a.event.source)


def render_table(alerts: list[AuditAlert], console: Console) -> None:
    if not alerts:
        console.print("No findings.")
        return
    for a in alerts:
        head = Text("  ")
        head.append(f"{a.level:<13}", style=LEVEL_STYLE.get(a.level, ""))
        head.append(safe(a.detection_type), style="bold")
        host = a.event.computer
        if host:
            head.append(f"  {safe(host)}", style="dim")
        if a.event.time_created:
            head.append(f"  {safe(a.event.time_created[:19]).replace('T', ' ')}", style="dim")
        console.print(head)
        lines = [_what(a)]
        if a.info.get("location"):
            lines.append(f"location: {a.info['location']}")
        where = a.info.get("windows_config") or a.event.source
        snap = a.info.get("snapshot")
        lines.append(f"{where} ({snap})" if snap and snap != "live" else where)
        lines.append(a.event.locator)
        lines += list(a.notes)
        dll = a.info.get("dll")
        if dll:
            lines.append(
                f"sha256 {dll['sha256']}  exports {','.join(dll['exports'][:6]) or '-'}  signature {dll['signature']}"
                + (f" ({dll['signer']})" if dll.get("signer") else "")
            )
        for line in lines:
            console.print(Padding(Text(safe(line)), (0, 0, 0, 6)))
    console.print()
