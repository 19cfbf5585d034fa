"""Sites and applications from ``<system.applicationHost/sites>``: which folder serves which URL.

Used twice: a web.config's location ("Default Web Site/owa") comes from the virtual directory whose
``physicalPath`` holds it, and every content folder counts as writable by the site's own code (a web shell's
first drop point), so a module DLL inside one is flagged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from iisdetect.audit.entries import expand


@dataclass(frozen=True)
class VirtualDir:
    site: str
    url: str  # application path + virtual directory path, "/" for a site root
    physical: str  # expanded


def virtual_dirs(root: ET.Element) -> list[VirtualDir]:
    out = []
    for site in root.findall("system.applicationHost/sites/site"):
        for app in site.findall("application"):
            for vd in app.findall("virtualDirectory"):
                url = (app.get("path", "/").rstrip("/") + "/" + vd.get("path", "/").strip("/")).rstrip("/") or "/"
                phys = vd.get("physicalPath", "")
                if phys:
                    out.append(VirtualDir(site.get("name", ""), url, expand(phys)))
    return out


def location_of(windows_file: str, vdirs: list[VirtualDir]) -> str:
    """``C:\\inetpub\\wwwroot\\app\\web.config`` -> ``Default Web Site/app`` (longest physical path wins)."""
    folder = windows_file.rsplit("\\", 1)[0].lower().rstrip("\\")
    best: tuple[int, str] | None = None
    for vd in vdirs:
        phys = vd.physical.lower().rstrip("\\")
        if folder == phys or folder.startswith(phys + "\\"):
            rest = windows_file.rsplit("\\", 1)[0][len(phys) :].replace("\\", "/").strip("/")
            url = "/".join(p for p in (vd.url.strip("/"), rest) if p)
            loc = vd.site + ("/" + url if url else "")
            if best is None or len(phys) > best[0]:
                best = (len(phys), loc)
    return best[1] if best else ""
