"""What an IIS configuration makes w3wp.exe load: one ``Entry`` per registration, with where it was written.

IIS loads code from five places in its configuration (schema: ``%windir%\\System32\\inetsrv\\config\\schema\\
IIS_schema.xml``; reference: learn.microsoft.com/iis/configuration/system.webserver/): ``<globalModules>``
(native DLLs, ``image``), ``<modules>`` (managed types, or a native module enabled by name), ``<isapiFilters>``
(``path``), ``<security/isapiCgiRestriction>`` (ISAPI/CGI allow-list, ``path``) and ``<handlers>`` entries with a
``scriptProcessor``; classic-mode ASP.NET adds ``<system.web/httpModules>`` in any web.config, and
``<httpCompression><scheme dll=...>`` is a DLL too. Each entry keeps the file, the ``<location path>``, an XPath
that finds it again, the raw attribute and the expanded one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

#: expansions for display and path checks (the default system drive; IIS Express has its own %IIS_BIN%)
ENV = {
    "%windir%": "C:\\Windows",
    "%systemroot%": "C:\\Windows",
    "%systemdrive%": "C:",
    "%programfiles%": "C:\\Program Files",
    "%programfiles(x86)%": "C:\\Program Files (x86)",
    "%programdata%": "C:\\ProgramData",
    "%iis_bin%": "C:\\Windows\\System32\\inetsrv",
    "%exchangeinstallpath%": "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\",
}
IIS_EXPRESS_BIN = "C:\\Program Files\\IIS Express"
_VAR = re.compile(r"%[A-Za-z0-9_()]+%")
#: (section path under <configuration>, element, kind, image attribute)
SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("system.webServer/globalModules", "add", "global_module", "image"),
    ("system.webServer/modules", "add", "module", ""),
    ("system.web/httpModules", "add", "module", ""),
    ("system.webServer/isapiFilters", "filter", "isapi_filter", "path"),
    ("system.webServer/security/isapiCgiRestriction", "add", "isapi_cgi_restriction", "path"),
    ("system.webServer/handlers", "add", "handler", "scriptProcessor"),
    ("system.webServer/httpCompression", "scheme", "compression_scheme", "dll"),
)
KINDS = tuple(dict.fromkeys(s[2] for s in SECTIONS))


@dataclass
class Entry:
    kind: str
    name: str
    image: str = ""
    type: str = ""
    precondition: str = ""
    location: str = ""
    config: str = ""
    windows_config: str = ""
    xpath: str = ""
    resolved: str = ""
    bitness: str = ""
    iis_express: bool = False
    snapshot: str = ""
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across snapshots: kind, location and the collection key IIS uses (name, or path)."""
        ident = self.name if self.kind not in ("isapi_cgi_restriction",) else self.image
        return (self.kind, self.location.lower(), ident.lower())

    def identity(self) -> str:
        return self.name or self.image


def expand(path: str, iis_express: bool = False) -> str:
    """``%windir%\\x`` -> ``C:\\Windows\\x`` (case kept, unknown variables left as written)."""

    def sub(m: re.Match[str]) -> str:
        var = m.group().lower()
        if var == "%iis_bin%" and iis_express:
            return IIS_EXPRESS_BIN
        return ENV.get(var, m.group())

    return _VAR.sub(sub, path.strip().strip('"'))


def bitness(precondition: str, resolved: str) -> str:
    """``32`` / ``64`` from ``preCondition`` (bitness32/64) or a 32-bit twin folder; empty when both load it."""
    pc = precondition.lower()
    if "bitness32" in pc:
        return "32"
    if "bitness64" in pc:
        return "64"
    low = resolved.lower()
    if "\\syswow64\\" in low or "\\microsoft.net\\framework\\" in low or "\\program files (x86)\\" in low:
        return "32"
    if "\\framework64\\" in low:
        return "64"
    return ""


def _quote(value: str) -> str:
    return '"' + value.replace('"', "&quot;") + '"' if "'" in value else f"'{value}'"


def _loc(path: str) -> str:
    """``<location path=".">`` (and ``""``) is the file's own level."""
    return "" if path.strip() in ("", ".") else path.strip().strip("/")


def _step(elem: ET.Element, key: str) -> str:
    val = elem.get(key)
    return f"{elem.tag}[@{key}={_quote(val)}]" if val is not None else elem.tag


def _is_express(root: ET.Element, windows_config: str) -> bool:
    """IIS Express: its per-user config folder, or native images written with ``%IIS_BIN%`` (full IIS never does)."""
    low = windows_config.lower()
    if "iisexpress" in low or "iis express" in low or "\\.vs\\" in low:
        return True
    images = root.findall("system.webServer/globalModules/add")
    return any(e.get("image", "").lower().startswith("%iis_bin%") for e in images)


def extract(root: ET.Element, config: str, windows_config: str = "", snapshot: str = "") -> list[Entry]:
    """Every registration in one parsed file, in document order."""
    if root.tag != "configuration":
        return []
    express = _is_express(root, windows_config)
    out: list[Entry] = []
    scopes: list[tuple[str, str, ET.Element]] = [("", "/configuration", root)]
    scopes += [
        (_loc(loc.get("path", "")), f"/configuration/{_step(loc, 'path')}", loc) for loc in root.findall("location")
    ]
    for location, base, scope in scopes:
        for section, element, kind, image_attr in SECTIONS:
            sec = scope.find(section)
            if sec is None:
                continue
            for elem in sec.findall(element):
                entry = _entry(elem, kind, image_attr, location, f"{base}/{section}", express)
                if entry is None:
                    continue
                entry.config, entry.windows_config, entry.snapshot = config, windows_config, snapshot
                out.append(entry)
    return out


def _entry(elem: ET.Element, kind: str, image_attr: str, location: str, base: str, express: bool) -> Entry | None:
    attrs = {k: v for k, v in elem.attrib.items()}
    name = attrs.get("name", "")
    image = attrs.get(image_attr, "") if image_attr else ""
    if kind == "handler":
        if not image:
            return None  # only handlers that name an executable or DLL
        image = image.split("|", 1)[0]  # FastCGI: "C:\\PHP\\php-cgi.exe|-d arg"
    key = "path" if kind == "isapi_cgi_restriction" else "name"
    resolved = expand(image, express) if image else ""
    pc = attrs.get("preCondition", "")
    return Entry(
        kind=kind,
        name=name or attrs.get("description", ""),
        image=image,
        type=attrs.get("type", "") if kind == "module" else "",
        precondition=pc,
        location=location,
        xpath=f"{base}/{_step(elem, key)}",
        resolved=resolved,
        bitness=bitness(pc, resolved),
        iis_express=express,
        attrs=attrs,
    )
