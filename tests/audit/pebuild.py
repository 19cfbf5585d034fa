"""Build tiny, inert PE32+ DLLs for the audit tests: exports, imports, a PDB path, a fake signature, .NET metadata.

The files hold no code at all (every export points at the same zero bytes); they exist so ``pefile`` and
``dnfile`` have the structures a real IIS module has (Microsoft PE/COFF specification; ECMA-335 partition II
for the metadata tables). Nothing here is ever loaded or run.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTION_RVA = 0x1000
FILE_ALIGN = 0x200


@dataclass
class Spec:
    exports: list[str] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)
    pdb: str = ""
    timestamp: int = 0x5F5E1000
    signer: str = ""  # CN of a fake (unverifiable) Authenticode certificate; "" = unsigned
    http_module: tuple[str, str] | None = None  # (namespace, class) implementing System.Web.IHttpModule


class _Section:
    def __init__(self) -> None:
        self.buf = bytearray(16)  # offset 0..15: the (empty) body every export points at

    def add(self, data: bytes, align: int = 4) -> int:
        while len(self.buf) % align:
            self.buf.append(0)
        off = len(self.buf)
        self.buf += data
        return SECTION_RVA + off

    def patch(self, rva: int, data: bytes) -> None:
        off = rva - SECTION_RVA
        self.buf[off : off + len(data)] = data


def _exports(sec: _Section, names: list[str], dll_name: str) -> tuple[int, int]:
    names = sorted(names)
    name_rva = sec.add(dll_name.encode() + b"\0")
    str_rvas = [sec.add(n.encode() + b"\0", 1) for n in names]
    funcs = sec.add(struct.pack(f"<{len(names)}I", *([SECTION_RVA] * len(names))))
    name_ptrs = sec.add(struct.pack(f"<{len(names)}I", *str_rvas))
    ords = sec.add(struct.pack(f"<{len(names)}H", *range(len(names))))
    d = struct.pack("<IIHHIIIIIII", 0, 0, 0, 0, name_rva, 1, len(names), len(names), funcs, name_ptrs, ords)
    return sec.add(d), len(d)


def _imports(sec: _Section, imports: dict[str, list[str]]) -> tuple[int, int]:
    descs = []
    for lib, funcs in imports.items():
        lib_rva = sec.add(lib.encode() + b"\0")
        hints = [sec.add(struct.pack("<H", 0) + f.encode() + b"\0", 2) for f in funcs]
        thunks = struct.pack(f"<{len(hints) + 1}Q", *hints, 0)
        ilt = sec.add(thunks, 8)
        iat = sec.add(thunks, 8)
        descs.append(struct.pack("<IIIII", ilt, 0, 0, lib_rva, iat))
    table = b"".join(descs) + b"\0" * 20
    return sec.add(table), len(table)


def _debug(sec: _Section, pdb: str, ts: int) -> tuple[int, int, int, int]:
    cv = b"RSDS" + bytes(range(16)) + struct.pack("<I", 1) + pdb.encode() + b"\0"
    cv_rva = sec.add(cv)
    d_rva = sec.add(bytes(28))  # patched with the raw pointer once the file layout is known
    return d_rva, 28, cv_rva, len(cv)


def _metadata(ns: str, cls: str) -> bytes:
    """ECMA-335 metadata: Module, TypeRef System.Web.IHttpModule, TypeDefs <Module> and ns.cls, one InterfaceImpl."""
    strings = bytearray(b"\0")

    def s(text: str) -> int:
        off = len(strings)
        strings.extend(text.encode() + b"\0")
        return off

    mod, lib = s("<Module>"), s("module.dll")
    iface, web, name, space = s("IHttpModule"), s("System.Web"), s(cls), s(ns)
    while len(strings) % 4:
        strings.append(0)
    rows = {0x00: 1, 0x01: 1, 0x02: 2, 0x09: 1}
    valid = sum(1 << t for t in rows)
    tables = struct.pack("<IBBBBQQ", 0, 2, 0, 0, 1, valid, 0) + b"".join(
        struct.pack("<I", rows[t]) for t in sorted(rows)
    )
    tables += struct.pack("<HHHHH", 0, lib, 1, 0, 0)  # Module
    tables += struct.pack("<HHH", (1 << 2) | 0, iface, web)  # TypeRef, scope = Module row 1
    tables += struct.pack("<IHHHHH", 0, mod, 0, 0, 1, 1)  # TypeDef <Module>
    tables += struct.pack("<IHHHHH", 0x100001, name, space, 0, 1, 1)  # TypeDef ns.cls (public, no base)
    tables += struct.pack("<HH", 2, (1 << 2) | 1)  # InterfaceImpl: TypeDef 2 implements TypeRef 1
    while len(tables) % 4:
        tables += b"\0"
    heaps = [
        ("#~", tables),
        ("#Strings", bytes(strings)),
        ("#US", b"\0\0\0\0"),
        ("#GUID", bytes(16)),
        ("#Blob", b"\0\0\0\0"),
    ]
    version = b"v4.0.30319\0\0"
    header_len = 16 + len(version) + 4 + sum(8 + ((len(n) + 4) // 4) * 4 for n, _ in heaps)
    head = struct.pack("<IHHII", 0x424A5342, 1, 1, 0, len(version)) + version + struct.pack("<HH", 0, len(heaps))
    body, off = b"", header_len
    for n, data in heaps:
        raw = n.encode() + b"\0"
        raw += b"\0" * ((4 - len(raw) % 4) % 4)
        head += struct.pack("<II", off, len(data)) + raw
        body += data
        off += len(data)
    return head + body


def _signature(cn: str) -> bytes:
    """A PKCS#7 SignedData shaped like Authenticode, with a self-describing fake certificate (never valid)."""
    from asn1crypto import algos, cms, core, keys, x509

    name = x509.Name.build({"common_name": cn, "organization_name": cn})
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": 4242,
            "signature": {"algorithm": "sha256_rsa"},
            "issuer": name,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=core.UTCTime("200101000000Z").native),
                "not_after": x509.Time(name="utc_time", value=core.UTCTime("300101000000Z").native),
            },
            "subject": name,
            "subject_public_key_info": {
                "algorithm": {"algorithm": "rsa"},
                "public_key": keys.RSAPublicKey({"modulus": (1 << 2047) | 1, "public_exponent": 65537}),
            },
        }
    )
    cert = x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": {"algorithm": "sha256_rsa"}, "signature_value": b"\0" * 256}
    )
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(name="issuer_and_serial_number", value={"issuer": name, "serial_number": 4242}),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signature": b"\0" * 256,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data", "content": b"not an Authenticode digest"},
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def build(spec: Spec, dll_name: str = "module.dll") -> bytes:
    sec = _Section()
    dirs = [(0, 0)] * 16
    if spec.exports:
        dirs[0] = _exports(sec, spec.exports, dll_name)
    if spec.imports:
        dirs[1] = _imports(sec, spec.imports)
    dbg = None
    if spec.pdb:
        dbg = _debug(sec, spec.pdb, spec.timestamp)
        dirs[6] = (dbg[0], dbg[1])
    if spec.http_module:
        md = _metadata(*spec.http_module)
        md_rva = sec.add(md)
        cli = struct.pack("<IHHIII", 72, 2, 5, md_rva, len(md), 1) + bytes(72 - 20)
        dirs[14] = (sec.add(cli), 72)
    raw_size = (len(sec.buf) + FILE_ALIGN - 1) // FILE_ALIGN * FILE_ALIGN
    if dbg is not None:
        sec.patch(
            dbg[0],
            struct.pack("<IIHHIIII", 0, spec.timestamp, 0, 0, 2, dbg[3], dbg[2], FILE_ALIGN + dbg[2] - SECTION_RVA),
        )
    cert = b""
    if spec.signer:
        blob = _signature(spec.signer)
        win = struct.pack("<IHH", 8 + len(blob), 0x0200, 0x0002) + blob
        win += b"\0" * ((8 - len(win) % 8) % 8)
        dirs[4] = (FILE_ALIGN + raw_size, len(win))  # a file offset, not an RVA
        cert = win
    image_size = SECTION_RVA + (len(sec.buf) + 0xFFF) // 0x1000 * 0x1000
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40)
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", 0x8664, 1, spec.timestamp, 0, 0, 0xF0, 0x2022)
    opt = struct.pack(
        "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
        0x20B, 14, 0, 0, raw_size, 0, 0, SECTION_RVA, 0x180000000, 0x1000, FILE_ALIGN,
        6, 0, 0, 0, 6, 0, 0, image_size, FILE_ALIGN, 0, 2, 0x160,
        0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
    )  # fmt: skip
    opt += b"".join(struct.pack("<II", *d) for d in dirs)
    shdr = struct.pack(
        "<8sIIIIIIHHI", b".rdata", len(sec.buf), SECTION_RVA, raw_size, FILE_ALIGN, 0, 0, 0, 0, 0x40000040
    )
    header = dos + coff + opt + shdr
    header += b"\0" * (FILE_ALIGN - len(header))
    return header + bytes(sec.buf) + b"\0" * (raw_size - len(sec.buf)) + cert


NATIVE_MODULE = Spec(exports=["RegisterModule"], imports={"KERNEL32.dll": ["GetProcAddress"]})
ISAPI_FILTER = Spec(
    exports=["GetFilterVersion", "HttpFilterProc", "TerminateFilter"], imports={"KERNEL32.dll": ["Sleep"]}
)
ISAPI_EXTENSION = Spec(exports=["GetExtensionVersion", "HttpExtensionProc"], imports={"KERNEL32.dll": ["Sleep"]})
