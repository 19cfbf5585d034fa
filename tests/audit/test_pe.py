"""DLL triage on PE files the tests build (tests/audit/pebuild.py): never a real binary, never loaded."""

from __future__ import annotations

import hashlib

from iisdetect.audit.pe import triage
from tests.audit.pebuild import ISAPI_EXTENSION, ISAPI_FILTER, NATIVE_MODULE, Spec, build


def test_native_module_facts() -> None:
    spec = Spec(
        exports=["RegisterModule"],
        imports={"KERNEL32.dll": ["CreateProcessW", "Sleep"], "WINHTTP.dll": ["WinHttpOpen"]},
        pdb="C:\\Users\\dev\\UpData\\x64\\Release\\UpData.pdb",
        timestamp=1617000000,
    )
    data = build(spec)
    rep = triage(data, "system.dll")
    assert rep.is_pe and rep.notes == []
    assert rep.roles == ["native_module"]
    assert rep.exports == ["RegisterModule"]
    assert rep.sha256 == hashlib.sha256(data).hexdigest()
    assert rep.md5 == hashlib.md5(data).hexdigest()
    assert rep.sha1 == hashlib.sha1(data).hexdigest()
    assert len(rep.imphash) == 32
    assert rep.compile_time == "2021-03-29T06:40:00Z"
    assert rep.pdb_path == "C:\\Users\\dev\\UpData\\x64\\Release\\UpData.pdb"
    assert rep.notable_imports == ["KERNEL32.dll!CreateProcessW", "WINHTTP.dll!WinHttpOpen"]  # Sleep is not notable
    assert rep.signature == "none" and rep.signer == ""
    assert rep.machine == "IMAGE_FILE_MACHINE_AMD64"


def test_roles_from_exports() -> None:
    assert triage(build(ISAPI_FILTER), "f.dll").roles == ["isapi_filter"]
    assert triage(build(ISAPI_EXTENSION), "e.dll").roles == ["isapi_extension"]
    assert triage(build(Spec(exports=["GetFilterVersion"])), "half.dll").roles == []  # needs HttpFilterProc too
    assert triage(build(NATIVE_MODULE), "m.dll").imphash != triage(build(ISAPI_FILTER), "f.dll").imphash


def test_signer_name_is_read_not_verified() -> None:
    rep = triage(build(Spec(exports=["RegisterModule"], signer="Contoso Ltd")), "s.dll")
    assert rep.signature == "signed, not verified"
    assert rep.signer == "Contoso Ltd"


def test_dotnet_ihttpmodule_types() -> None:
    rep = triage(build(Spec(http_module=("Contoso.Web", "SessionCache"))), "a.dll")
    assert rep.dotnet and rep.http_modules == ["Contoso.Web.SessionCache"]
    assert triage(build(NATIVE_MODULE), "m.dll").dotnet is False


def test_hostile_files_never_raise() -> None:
    good = build(Spec(exports=["RegisterModule"], signer="Contoso Ltd", pdb="x.pdb"))
    assert triage(b"not a pe at all", "x").notes[0].startswith("not a PE file")
    for cut in (64, 200, 400, 600, len(good) - 100):
        rep = triage(good[:cut], "cut.dll")  # truncated anywhere: a report, never an exception
        assert rep.size == cut
    broken_sig = bytearray(good)
    off = good.rfind(b"\x00\x02\x02\x00")  # wRevision 0x0200, wCertificateType 2 (little endian)
    broken_sig[off + 4 : off + 40] = b"\xff" * 36
    rep = triage(bytes(broken_sig), "badsig.dll")
    assert rep.signature == "signed, not verified" and rep.signer == ""
    assert any("signature unparsable" in n for n in rep.notes)


def test_damaged_dotnet_metadata_goes_to_notes(capsys) -> None:  # noqa: ANN001
    data = bytearray(build(Spec(http_module=("Contoso.Web", "SessionCache"))))
    at = data.find(b"BSJB")  # metadata root signature: break it
    data[at : at + 4] = b"XXXX"
    rep = triage(bytes(data), "broken.dll")
    assert rep.dotnet and rep.http_modules == []
    assert any("metadata" in n for n in rep.notes)
    assert capsys.readouterr().err == ""  # dnfile's warnings are captured, not printed
