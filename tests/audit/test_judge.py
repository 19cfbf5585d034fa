"""Each judgement flag fires on its case, and the clean neighbours raise nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from iisdetect.audit.entries import extract
from iisdetect.audit.judge import judge_entry, parse_type, user_writable
from tests.audit.conftest import config


def judged(xml: str, site_roots: tuple[str, ...] = ()) -> dict[str, tuple[str, list[str]]]:
    entries = extract(ET.fromstring(xml), "applicationHost.config", "C:\\Windows\\System32\\inetsrv\\config\\x")
    out = {}
    for e in entries:
        j = judge_entry(e, site_roots)
        out[f"{e.kind}:{e.identity()}"] = (j.verdict, [c for c, _ in j.findings])
    return out


def test_default_entries_are_clean() -> None:
    xml = config(
        global_modules='<add name="DefaultDocumentModule" image="%windir%\\System32\\inetsrv\\defdoc.dll" />'
        '<add name="ManagedEngineV4.0_32bit" image="%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\webengine4.dll" '
        'preCondition="integratedMode,runtimeVersionv4.0,bitness32" />'
        '<add name="RewriteModule" image="%SystemRoot%\\system32\\inetsrv\\rewrite.dll" />'
        '<add name="kerbauth" image="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\kerbauth.dll" '
        'preCondition="bitness64" />',
        modules='<add name="DefaultDocumentModule" />'
        '<add name="Session" type="System.Web.SessionState.SessionStateModule" preCondition="managedHandler" />'
        '<add name="ScriptModule-4.0" type="System.Web.Handlers.ScriptModule, System.Web.Extensions, '
        'Version=4.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" />'
        '<add name="Exchange OAuth" type="Microsoft.Exchange.Security.OAuth.OAuthHttpModule, '
        'Microsoft.Exchange.Security, Version=15.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" />',
        filters='<filter name="ASP.Net_4.0_32bit" '
        'path="%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_filter.dll" />',
        restrictions='<add path="C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_isapi.dll" allowed="true" '
        'description="ASP.NET v4.0.30319" />',
        handlers='<add name="ASPClassic" path="*.asp" verb="GET" modules="IsapiModule" '
        'scriptProcessor="%windir%\\system32\\inetsrv\\asp.dll" />',
    )
    out = judged(xml)
    assert {k: v[1] for k, v in out.items()} == {k: [] for k in out}
    assert out["global_module:DefaultDocumentModule"][0] == "built-in"
    assert out["global_module:RewriteModule"][0] == "known vendor (microsoft_oob)"
    assert out["global_module:kerbauth"][0] == "known vendor (exchange)"
    assert out["module:Exchange OAuth"][0].startswith("Microsoft-signed assembly Microsoft.Exchange.Security")
    assert len(out) == 11


@pytest.mark.parametrize(
    ("entry", "key", "flags"),
    [
        # ART T1505.004 test 1: a built-in name with a suffix, the real DLL
        (
            '<add name="DefaultDocumentModule_Atomic" image="%windir%\\system32\\inetsrv\\defdoc.dll" />',
            "global_module:DefaultDocumentModule_Atomic",
            ["audit.lookalike"],
        ),
        # known name, other image, and that image in Temp
        (
            '<add name="HttpLoggingModule" image="C:\\Windows\\Temp\\loghttp.dll" />',
            "global_module:HttpLoggingModule",
            ["audit.image_mismatch", "audit.outside_folder", "audit.user_writable"],
        ),
        # Microsoft Q&A 355650: UpData -> C:\Windows\System32\system.dll on a compromised Exchange 2013
        (
            '<add name="UpData" image="C:\\Windows\\System32\\system.dll" />',
            "global_module:UpData",
            ["audit.unknown", "audit.system_folder"],
        ),
        # unknown name, a built-in DLL's file name from another folder
        (
            '<add name="CacheHelper" image="C:\\ProgramData\\cachuri.dll" />',
            "global_module:CacheHelper",
            ["audit.unknown", "audit.outside_folder", "audit.user_writable"],
        ),
        # a known DLL under an unknown name
        (
            '<add name="Compression" image="%windir%\\System32\\inetsrv\\compdyn.dll" />',
            "global_module:Compression",
            ["audit.unknown"],
        ),
        # RGDoor (Unit 42): unknown module in inetsrv
        (
            '<add name="IISCompressionHelper" image="C:\\Windows\\System32\\inetsrv\\iiscmphlp.dll" />',
            "global_module:IISCompressionHelper",
            ["audit.unknown", "audit.system_folder"],
        ),
        # a module on a share
        (
            '<add name="Remote" image="\\\\fileserver\\share\\m.dll" />',
            "global_module:Remote",
            ["audit.unknown", "audit.user_writable"],
        ),
    ],
)
def test_global_module_flags(entry: str, key: str, flags: list[str]) -> None:
    out = judged(config(global_modules=entry))
    assert out[key][1] == flags
    assert out[key][0] in ("suspicious", "unknown")


@pytest.mark.parametrize(
    ("type_", "flags"),
    [
        (
            "Evil.Module, Evil, Version=1.0.0.0, Culture=neutral, PublicKeyToken=8c3d2b1a0f9e7d6c",
            ["audit.managed_untrusted"],
        ),
        ("Evil.Module, Evil, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null", ["audit.managed_untrusted"]),
        ("Evil.Module, Evil", ["audit.managed_untrusted"]),
        ("Evil.Module", ["audit.managed_untrusted"]),  # App_Code / bin
        ("System.Web.Caching.OutputCacheModule", []),
    ],
)
def test_managed_tokens(type_: str, flags: list[str]) -> None:
    out = judged(config(modules=f'<add name="Cache" type="{type_}" />'))
    assert out["module:Cache"][1] == flags


def test_managed_known_name_other_type_and_lookalike() -> None:
    out = judged(
        config(
            modules='<add name="Session" type="Evil.Session, Evil, PublicKeyToken=31bf3856ad364e35" />'
            '<add name="ScriptModule-4.1" type="System.Web.Handlers.ScriptModule, System.Web.Extensions, '
            'PublicKeyToken=31bf3856ad364e35" />'
        )
    )
    assert out["module:Session"][1] == ["audit.image_mismatch"]
    assert out["module:ScriptModule-4.1"][1] == ["audit.lookalike"]


def test_filters_handlers_restrictions() -> None:
    out = judged(
        config(
            filters='<filter name="OwaAuth" path="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\'
            'Owa\\bin\\owaauth.dll" /><filter name="f" path="C:\\Users\\Public\\f.dll" />',
            handlers='<add name="php" path="*.php" verb="*" modules="FastCgiModule" '
            'scriptProcessor="C:\\PHP\\php-cgi.exe|-d open_basedir=C:\\inetpub" />',
            restrictions='<add path="C:\\inetpub\\wwwroot\\upload\\x.dll" allowed="true" />',
        ),
        site_roots=("C:\\inetpub\\wwwroot",),
    )
    # SecureWorks TG-3390 OwaAuth: owaauth.dll in ClientAccess\Owa\bin (Exchange ships it in Owa\auth)
    assert out["isapi_filter:OwaAuth"][1] == ["audit.unknown"]
    assert out["isapi_filter:f"][1] == ["audit.unknown", "audit.user_writable"]
    assert out["handler:php"][1] == ["audit.unknown"]
    assert out["isapi_cgi_restriction:C:\\inetpub\\wwwroot\\upload\\x.dll"][1] == [
        "audit.unknown",
        "audit.user_writable",
    ]


def test_iis_express_images_match_their_baseline_modules() -> None:
    xml = config(
        global_modules='<add name="UriCacheModule" image="%IIS_BIN%\\cachuri.dll" />'
        '<add name="AspNetCoreModuleV2" image="%IIS_BIN%\\Asp.Net Core Module\\V2\\aspnetcorev2.dll" />'
        '<add name="AspNetCoreModuleV2x" image="%IIS_BIN%\\evil.dll" />'
    )
    out = judged(xml)
    assert out["global_module:UriCacheModule"] == ("built-in", [])
    assert out["global_module:AspNetCoreModuleV2"] == ("known vendor (microsoft_oob)", [])
    assert out["global_module:AspNetCoreModuleV2x"][1] == ["audit.lookalike"]


def test_parse_type_and_user_writable() -> None:
    assert parse_type("A.B, Asm, Version=1.0, Culture=neutral, PublicKeyToken=ABC") == ("A.B", "Asm", "abc")
    assert parse_type("A.B") == ("A.B", "", "")
    assert user_writable("C:\\Windows\\System32\\inetsrv\\x.dll") is None
    assert user_writable("C:\\Users\\bob\\AppData\\Local\\x.dll")
    assert user_writable("C:\\sites\\a\\bin\\x.dll", ("C:\\sites\\a",))


def test_exchange_server_module_list_after_a_compromise() -> None:
    """The globalModules list posted in Microsoft Q&A 355650 (Exchange 2013 after Hafnium): only UpData is odd."""
    ex = "c:\\Program Files\\Microsoft\\Exchange Server\\V15\\"
    out = judged(
        config(
            global_modules=f'<add name="kerbauth" image="{ex}Bin\\kerbauth.dll" preCondition="bitness64" />'
            '<add name="WSMan" image="C:\\Windows\\system32\\wsmsvc.dll" />'
            f'<add name="exppw" image="{ex}ClientAccess\\Owa\\auth\\exppw.dll" />'
            f'<add name="cafe_exppw" image="{ex}FrontEnd\\HttpProxy\\bin\\exppw.dll" />'
            '<add name="UpData" image="C:\\Windows\\System32\\system.dll" />'
            '<add name="RewriteModule" image="%SystemRoot%\\system32\\inetsrv\\rewrite.dll" />'
        )
    )
    assert out == {
        "global_module:kerbauth": ("known vendor (exchange)", []),
        "global_module:WSMan": ("known vendor (windows_role)", []),
        "global_module:exppw": ("known vendor (exchange)", []),
        "global_module:cafe_exppw": ("known vendor (exchange)", []),
        "global_module:UpData": ("unknown", ["audit.unknown", "audit.system_folder"]),
        "global_module:RewriteModule": ("known vendor (microsoft_oob)", []),
    }


def test_exchange_isapi_restrictions_are_known() -> None:
    """The isapiCgiRestriction list of a real Exchange 2019 server (CSS-Exchange HealthChecker test data)."""
    ex = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\"
    paths = [
        "C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\aspnet_isapi.dll",
        "C:\\Windows\\System32\\RpcProxy\\RpcProxy.dll",
        "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_isapi.dll",
        f"{ex}ClientAccess\\owa\\auth\\owaauth.dll",
        "C:\\Windows\\System32\\RpcProxy\\RpcProxyShim.dll",
        f"{ex}FrontEnd\\HttpProxy\\bin\\owaauth.dll",
    ]
    out = judged(config(restrictions="".join(f'<add path="{p}" allowed="true" />' for p in paths)))
    role, exchange = "known vendor (windows_role)", "known vendor (exchange)"
    assert [v for v, _ in out.values()] == ["built-in", role, "built-in", exchange, role, exchange]
    assert all(flags == [] for _, flags in out.values())
