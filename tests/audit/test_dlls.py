"""How a triaged DLL is weighed against the entry that registers it (exports for its role, expected signer)."""

from __future__ import annotations

from iisdetect.audit.dlls import weigh
from iisdetect.audit.entries import Entry
from iisdetect.audit.pe import triage
from tests.audit.pebuild import NATIVE_MODULE, Spec, build


def _entry(kind: str, resolved: str = "C:\\x.dll") -> Entry:
    return Entry(kind=kind, name="n", image=resolved, resolved=resolved)


def test_weigh_levels() -> None:
    native = triage(build(NATIVE_MODULE), "m.dll")
    assert weigh(native, _entry("global_module"), "Microsoft Windows")[0] == "informational"  # catalog-signed OS file
    assert weigh(native, _entry("global_module"), "Microsoft Corporation")[0] == "high"  # product-signed, unsigned
    assert weigh(native, _entry("global_module"), "") == ("medium", ["no embedded signature"])
    level, reasons = weigh(native, _entry("isapi_filter"), "")
    assert (
        level == "medium"
        and reasons[0] == "registered as isapi_filter but does not export GetFilterVersion, HttpFilterProc"
    )
    signed = triage(build(Spec(exports=["RegisterModule"], signer="Contoso Ltd")), "s.dll")
    assert weigh(signed, _entry("global_module"), "Microsoft Windows")[0] == "high"
    assert weigh(signed, _entry("global_module"), "Dynatrace (expected)")[0] == "high"
    assert weigh(signed, _entry("global_module"), "")[0] == "informational"
    exe = triage(build(Spec(signer="PHP Group")), "php-cgi.exe")
    assert weigh(exe, _entry("handler", "C:\\PHP\\php-cgi.exe"), "")[0] == "informational"  # a CGI exe needs no export
