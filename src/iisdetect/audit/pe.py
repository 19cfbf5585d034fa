"""Static triage of a DLL that an IIS configuration names: what it exports, who signed it, what it is.

Parsed from bytes with ``pefile`` (and ``dnfile`` for .NET metadata); nothing is ever loaded or executed.
The exports say which IIS role the file is built for (Microsoft's IIS SDK: a native module exports
``RegisterModule``; an ISAPI filter ``GetFilterVersion`` + ``HttpFilterProc``; an ISAPI extension
``GetExtensionVersion`` + ``HttpExtensionProc``). The Authenticode blob (the PE security directory) is parsed
with ``asn1crypto`` for the signer's name only: no maintained pure-Python verifier works on this platform's
OpenSSL 3 (signify's oscrypto dependency fails to load it), so a present signature is reported as
"signed, not verified". OS files are catalog-signed and carry no embedded signature at all.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pefile

ROLE_EXPORTS = {
    "native_module": ("RegisterModule",),
    "isapi_filter": ("GetFilterVersion", "HttpFilterProc"),
    "isapi_extension": ("HttpExtensionProc",),
}
#: imports worth a responder's eye in an IIS module: process creation, injection, networking, crypto
NOTABLE_IMPORTS = frozenset(
    s.lower()
    for s in (
        "CreateProcessA",
        "CreateProcessW",
        "CreateProcessAsUserW",
        "WinExec",
        "ShellExecuteA",
        "ShellExecuteW",
        "VirtualAlloc",
        "VirtualAllocEx",
        "VirtualProtect",
        "WriteProcessMemory",
        "CreateRemoteThread",
        "LoadLibraryA",
        "LoadLibraryW",
        "GetProcAddress",
        "WSAStartup",
        "connect",
        "InternetOpenA",
        "InternetOpenW",
        "WinHttpOpen",
        "URLDownloadToFileW",
        "CryptEncrypt",
        "CryptDecrypt",
        "BCryptEncrypt",
        "BCryptDecrypt",
        "CryptStringToBinaryA",
        "CryptStringToBinaryW",
        "LogonUserW",
        "DuplicateTokenEx",
        "ImpersonateLoggedOnUser",
        "RegSetValueExW",
    )
)


@dataclass
class DllReport:
    path: str
    size: int
    md5: str
    sha1: str
    sha256: str
    is_pe: bool = False
    imphash: str = ""
    machine: str = ""
    compile_time: str = ""
    pdb_path: str = ""
    exports: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    signature: str = "none"
    signer: str = ""
    notable_imports: list[str] = field(default_factory=list)
    dotnet: bool = False
    http_modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def triage(data: bytes, path: str) -> DllReport:
    """Facts about one file; a damaged or non-PE file gives a report with ``is_pe`` False and a note."""
    rep = DllReport(
        path,
        len(data),
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )
    try:
        pe = pefile.PE(data=data, fast_load=True)
    except Exception as exc:  # pefile raises many types on hostile input; all mean "not a usable PE"
        rep.notes.append(f"not a PE file ({type(exc).__name__}: {str(exc)[:100]})")
        return rep
    rep.is_pe = True
    try:
        _headers(pe, rep)
        _exports(pe, rep)
        _imports(pe, rep)
        _debug(pe, rep)
        _signature(pe, data, rep)
        if pe.OPTIONAL_HEADER.DATA_DIRECTORY[14].VirtualAddress:  # COM descriptor: a .NET assembly
            rep.dotnet = True
            from iisdetect.audit.dotnet import http_module_types

            rep.http_modules = http_module_types(data, rep.notes)
    except Exception as exc:  # a half-parsed file keeps what was read, and says where it stopped
        rep.notes.append(f"parse stopped ({type(exc).__name__}: {str(exc)[:100]})")
    # no pe.close(): parsed from bytes there is nothing to unmap, and close() runs a full gc.collect()
    return rep


def _headers(pe: pefile.PE, rep: DllReport) -> None:
    rep.machine = pefile.MACHINE_TYPE.get(pe.FILE_HEADER.Machine, hex(pe.FILE_HEADER.Machine))
    ts = pe.FILE_HEADER.TimeDateStamp
    rep.compile_time = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else ""
    if not pe.is_dll():
        rep.notes.append("not a DLL (IMAGE_FILE_DLL not set)")


def _exports(pe: pefile.PE, rep: DllReport) -> None:
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"]])
    exp = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
    if exp is not None:
        rep.exports = [s.name.decode("latin-1") for s in exp.symbols[:2000] if s.name]
    names = set(rep.exports)
    rep.roles = [role for role, need in ROLE_EXPORTS.items() if all(n in names for n in need)]


def _imports(pe: pefile.PE, rep: DllReport) -> None:
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"]])
    found = []
    for dll in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])[:500]:
        lib = dll.dll.decode("latin-1") if dll.dll else "?"
        for imp in dll.imports[:5000]:
            if imp.name and imp.name.decode("latin-1").lower() in NOTABLE_IMPORTS:
                found.append(f"{lib}!{imp.name.decode('latin-1')}")
    rep.notable_imports = sorted(set(found))
    if getattr(pe, "DIRECTORY_ENTRY_IMPORT", None):
        rep.imphash = pe.get_imphash()


def _debug(pe: pefile.PE, rep: DllReport) -> None:
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DEBUG"]])
    for d in getattr(pe, "DIRECTORY_ENTRY_DEBUG", [])[:16]:
        info = getattr(d, "entry", None)
        pdb = getattr(info, "PdbFileName", None)
        if pdb:
            rep.pdb_path = pdb.rstrip(b"\x00").decode("utf-8", "replace")
            return


def _signature(pe: pefile.PE, data: bytes, rep: DllReport) -> None:
    sec = pe.OPTIONAL_HEADER.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    off, size = sec.VirtualAddress, sec.Size  # a file offset, not an RVA
    if not off or not size:
        return
    if off + 8 > len(data) or size < 8:
        rep.signature = "damaged (security directory outside the file)"
        return
    length, _rev, ctype = struct.unpack_from("<IHH", data, off)
    blob = data[off + 8 : off + min(length, size)]
    if ctype != 2 or not blob:  # WIN_CERT_TYPE_PKCS_SIGNED_DATA
        rep.signature = f"damaged (certificate type {ctype})"
        return
    rep.signature = "signed, not verified"
    rep.signer = signer_name(blob, rep.notes)


def signer_name(blob: bytes, notes: list[str]) -> str:
    """Common name of the certificate that signed a PKCS#7 SignedData blob ('' when unreadable)."""
    from asn1crypto import cms

    try:
        signed = cms.ContentInfo.load(blob)["content"]
        sid = signed["signer_infos"][0]["sid"]
        certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
        if sid.name == "issuer_and_serial_number":
            serial = sid.chosen["serial_number"].native
            issuer = sid.chosen["issuer"]
            match = [c for c in certs if c.serial_number == serial and c.issuer == issuer]
        else:
            match = [c for c in certs if c.key_identifier == sid.chosen.native]
        cert = match[0] if match else None
        if cert is None:
            notes.append("signature names a certificate that is not in the blob")
            return ""
        subject = cert.subject.native
        return str(subject.get("common_name") or subject.get("organization_name") or "")
    except Exception as exc:  # asn1crypto parses lazily and raises on any malformed field
        notes.append(f"signature unparsable ({type(exc).__name__})")
        return ""
