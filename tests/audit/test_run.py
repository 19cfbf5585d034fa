"""End to end: the bundled example package gives exactly the expected findings; clean entries stay informational."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

from iisdetect.audit.run import AuditOptions, audit
from tests.audit.conftest import APPHOST, config
from tests.audit.pebuild import NATIVE_MODULE, Spec, build

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "triage" / "web01-velociraptor.tar.gz"

#: (detection_type, level, entry name) of every finding above informational in the example package
EXPECTED = {
    ("IIS_Audit_Unknown_Image_In_System_Folder", "high", "IISCompressionHelper"),
    ("IIS_Audit_Unknown_Image_In_System_Folder", "high", "ChartImg"),
    ("IIS_Audit_Unknown_Image_In_System_Folder", "high", "Chart Image Handler"),
    ("IIS_Audit_History_Added", "high", "ChartImg"),
    ("IIS_Audit_History_Added", "high", "Chart Image Handler"),
    ("IIS_Audit_History_Added", "high", "DefaultDocumentModule_Atomic"),
    ("IIS_Audit_History_Removed", "high", "DefaultDocumentModule_Atomic"),
    ("IIS_Audit_History_Added", "high", "IISCompressionHelper"),
    ("IIS_Audit_Unknown_Component", "medium", "IISCompressionHelper"),
    ("IIS_Audit_Unknown_Component", "medium", "ChartImg"),
    ("IIS_Audit_Unknown_Component", "medium", "Chart Image Handler"),
    ("IIS_Audit_Managed_Not_Microsoft", "medium", "PortalCache"),
    ("IIS_Audit_DLL_Triage", "medium", "IISCompressionHelper"),
    ("IIS_Audit_DLL_Triage", "low", "PortalCache"),
}


def test_example_package_findings() -> None:
    result = audit(AuditOptions([str(EXAMPLE)]))
    above = {(a.detection_type, a.level, a.info["name"]) for a in result.alerts if a.level != "informational"}
    assert above == EXPECTED
    assert sum(1 for a in result.alerts if a.level != "informational") == len(EXPECTED)  # no duplicates
    # every entry of the live configs has an alert, clean ones exactly one informational inventory line
    assert len(result.entries) == 59
    clean = [e for e, j in result.entries if j.clean]
    assert len(clean) == 55  # 59 minus IISCompressionHelper, ChartImg (handler + restriction), PortalCache
    inventory = [a for a in result.alerts if a.detection_type == "IIS_Audit_Component"]
    assert len(inventory) == 55 and {a.level for a in inventory} == {"informational"}
    assert result.stats.records_read == 7 and result.stats.records_skipped == 0


def test_example_history_dates_the_installs() -> None:
    result = audit(AuditOptions([str(EXAMPLE)]))
    changes = {(c.what, c.entry.name): (c.snapshot, c.time) for c in result.changes}
    assert changes == {
        ("added", "RewriteModule"): ("CFGHISTORY_0000000002", "2024-03-05T14:12:00.000000Z"),
        ("added", "DefaultDocumentModule_Atomic"): ("CFGHISTORY_0000000002", "2024-03-05T14:12:00.000000Z"),
        ("removed", "DefaultDocumentModule_Atomic"): ("CFGHISTORY_0000000003", "2024-03-06T09:30:00.000000Z"),
        ("added", "IISCompressionHelper"): ("CFGHISTORY_0000000003", "2024-03-06T09:30:00.000000Z"),
        ("added", "ChartImg"): ("live", "2024-03-07T16:45:00.000000Z"),
        ("added", "Chart Image Handler"): ("live", "2024-03-07T16:45:00.000000Z"),
    }
    rgdoor = next(
        a
        for a in result.alerts
        if a.detection_type == "IIS_Audit_Unknown_Component" and a.info["name"] == "IISCompressionHelper"
    )
    assert rgdoor.info["first_seen"] == "CFGHISTORY_0000000003"
    assert rgdoor.event.source.endswith("uploads/auto/C%3A/Windows/System32/inetsrv/config/applicationHost.config")
    assert rgdoor.event.locator == "/configuration/system.webServer/globalModules/add[@name='IISCompressionHelper']"
    rewrite = [a for a in result.alerts if a.info.get("name") == "RewriteModule" and a.info.get("change") == "added"]
    assert [a.level for a in rewrite] == ["informational"]  # a clean install dated, not raised


def test_example_dll_triage() -> None:
    result = audit(AuditOptions([str(EXAMPLE)]))
    dlls = {Path(r.path.replace("\\", "/")).name: r for r in result.dlls}
    assert sorted(dlls) == ["App_Web_xn2gqmcw.dll", "chartimg.dll", "iiscmphlp.dll"]
    assert dlls["iiscmphlp.dll"].roles == ["native_module"]
    assert dlls["iiscmphlp.dll"].pdb_path.endswith("iiscmphlp.pdb")
    assert dlls["chartimg.dll"].signer == "Contoso Charting Ltd"
    assert dlls["App_Web_xn2gqmcw.dll"].http_modules == ["App_Web_xn2gqmcw.CacheModule"]
    iis_express = [a for a in result.alerts if a.info.get("iis_express")]
    assert iis_express and {a.level for a in iis_express} == {"informational"}


def test_kape_folder_with_dll_and_hostile_configs(kape) -> None:  # noqa: ANN001
    xml = config(
        global_modules='<add name="DefaultDocumentModule" image="%windir%\\System32\\inetsrv\\defdoc.dll" />'
        '<add name="UpData" image="C:\\Windows\\System32\\system.dll" />'
    )
    kape(APPHOST, xml)
    kape("C/Windows/System32/system.dll", build(Spec(exports=["RegisterModule"], signer="Contoso Ltd")))
    kape("C/inetpub/wwwroot/a/web.config", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><configuration/>')
    root = kape("C/inetpub/wwwroot/b/web.config", "<configuration><unclosed></configuration>")
    result = audit(AuditOptions([str(root)], host="WEB01"))
    assert result.stats.records_read == 1 and result.stats.records_skipped == 2
    assert result.stats.skipped_by_reason == Counter({"configuration file refused": 2})
    got = sorted((a.detection_type, a.level, a.info["name"]) for a in result.alerts)
    assert got == [
        ("IIS_Audit_Component", "informational", "DefaultDocumentModule"),
        ("IIS_Audit_DLL_Triage", "informational", "UpData"),  # signed by someone; the entry itself is flagged
        ("IIS_Audit_Unknown_Component", "medium", "UpData"),
        ("IIS_Audit_Unknown_Image_In_System_Folder", "high", "UpData"),
    ]
    assert {a.event.computer for a in result.alerts} == {"WEB01"}


def test_dll_option_matches_by_name(kape, tmp_path: Path) -> None:  # noqa: ANN001
    root = kape(APPHOST, config(filters='<filter name="F" path="C:\\ProgramData\\f.dll" />'))
    dll = tmp_path / "f.dll"
    dll.write_bytes(build(NATIVE_MODULE))  # a native module registered as a filter: wrong exports
    stray = tmp_path / "stray.dll"
    stray.write_bytes(b"MZ-not-really")
    result = audit(AuditOptions([str(root)], dlls=[str(dll), str(stray)]))
    tri = {a.info["resolved"]: a for a in result.alerts if a.detection_type == "IIS_Audit_DLL_Triage"}
    assert tri["C:\\ProgramData\\f.dll"].level == "medium"
    assert "does not export GetFilterVersion, HttpFilterProc" in tri["C:\\ProgramData\\f.dll"].notes[0]
    assert tri[str(stray)].level == "medium" and tri[str(stray)].info["verdict"] == "not registered"


def test_redirection_and_size_limit(kape, monkeypatch) -> None:  # noqa: ANN001
    import iisdetect.audit.run as run_mod

    redirect = '<configuration><configurationRedirection enabled="true" path="\\\\filer\\iisconfig" /></configuration>'
    kape("C/Windows/System32/inetsrv/config/redirection.config", redirect)
    root = kape(APPHOST, config(global_modules='<add name="A" image="C:\\a.dll" />' * 50))
    monkeypatch.setattr(run_mod, "MAX_CONFIG_BYTES", 1000)
    result = audit(AuditOptions([str(root)]))
    assert [(a.detection_type, a.level) for a in result.alerts] == [("IIS_Audit_Config_Redirected", "low")]
    assert result.alerts[0].notes == [
        "configurationRedirection enabled: IIS reads its configuration from '\\\\filer\\iisconfig'"
    ]
    assert result.stats.skipped_by_reason == Counter({"configuration file too large": 1})


def test_multi_host_folder_keeps_machines_apart(tmp_path: Path) -> None:
    """A folder of KAPE outputs, one per host: each host's history and live config are its own."""
    for host, module in (("WEB01", "UpData"), ("WEB02", "DefaultDocumentModule")):
        for rel, mods in (
            ("C/inetpub/history/CFGHISTORY_0000000001/applicationHost.config", ""),
            (APPHOST, f'<add name="{module}" image="C:\\Windows\\System32\\system.dll" />'),
        ):
            f = tmp_path / "cases" / host / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(config(global_modules=mods))
    result = audit(AuditOptions([str(tmp_path / "cases")]))
    added = sorted(
        (a.event.computer, a.info["name"]) for a in result.alerts if a.detection_type == "IIS_Audit_History_Added"
    )
    assert added == [("WEB01", "UpData"), ("WEB02", "DefaultDocumentModule")]
    mismatch = [a.event.computer for a in result.alerts if a.detection_type == "IIS_Audit_Known_Name_Other_Image"]
    assert mismatch == ["WEB02"]


def test_damaged_zip_member_is_a_counted_skip(tmp_path: Path) -> None:
    z = tmp_path / "pkg.zip"
    body = config(global_modules='<add name="UpData" image="C:\\Windows\\System32\\system.dll" />').encode()
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("C/Windows/System32/inetsrv/config/applicationHost.config", body)
        zf.writestr("C/inetpub/wwwroot/web.config", "<configuration/>")
    raw = bytearray(z.read_bytes())
    at = raw.find(b"UpData")
    raw[at] ^= 0xFF  # the stored bytes no longer match the CRC
    z.write_bytes(bytes(raw))
    result = audit(AuditOptions([str(z)]))
    assert result.stats.records_read == 1 and result.stats.records_skipped == 1
    (skip,) = result.stats.skips
    assert skip.reason == "configuration file unreadable" and "damaged member (BadZipFile" in skip.detail
    assert skip.source.endswith("!C/Windows/System32/inetsrv/config/applicationHost.config")


def test_history_changed_image_is_raised_with_the_old_value(kape) -> None:  # noqa: ANN001
    good = '<add name="HttpLoggingModule" image="%windir%\\System32\\inetsrv\\loghttp.dll" />'
    bad = '<add name="HttpLoggingModule" image="C:\\Windows\\Temp\\loghttp.dll" />'
    kape("C/inetpub/history/CFGHISTORY_0000000001/applicationHost.config", config(global_modules=good))
    root = kape(APPHOST, config(global_modules=bad))
    result = audit(AuditOptions([str(root)]))
    (changed,) = [a for a in result.alerts if a.detection_type == "IIS_Audit_History_Changed"]
    assert changed.level == "high" and changed.info["change_snapshot"] == "live"
    assert changed.notes[0].startswith("changed in live (")
    assert "was image='%windir%\\System32\\inetsrv\\loghttp.dll'" in changed.notes[0]
    flags = sorted(a.detection_type for a in result.alerts if a.detection_type != "IIS_Audit_History_Changed")
    assert flags == [
        "IIS_Audit_Image_Outside_Folder",
        "IIS_Audit_Known_Name_Other_Image",
        "IIS_Audit_User_Writable_Path",
    ]


def test_32_bit_twin_is_triaged_too(kape) -> None:  # noqa: ANN001
    """WOW64: a 32-bit pool loads SysWOW64\\... for a System32 image; a planted 32-bit copy is found."""
    image = "%windir%\\System32\\inetsrv\\defdoc.dll"
    kape(APPHOST, config(global_modules=f'<add name="DefaultDocumentModule" image="{image}" />'))
    kape("C/Windows/System32/inetsrv/defdoc.dll", build(NATIVE_MODULE))
    root = kape("C/Windows/SysWOW64/inetsrv/defdoc.dll", build(Spec(exports=["RegisterModule"], signer="Contoso Ltd")))
    result = audit(AuditOptions([str(root)]))
    tri = sorted(
        (a.info["resolved"], a.level, a.notes[0]) for a in result.alerts if a.detection_type == "IIS_Audit_DLL_Triage"
    )
    assert tri == [
        ("C:\\Windows\\SysWOW64\\inetsrv\\defdoc.dll", "high",
         "32-bit twin: a 32-bit application pool loads this file for the same entry"),
        ("C:\\Windows\\System32\\inetsrv\\defdoc.dll", "informational",
         "no embedded signature (expected: Windows files are catalog-signed; check the catalog on the host)"),
    ]  # fmt: skip
