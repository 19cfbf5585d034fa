"""Build examples/triage/web01-velociraptor.tar.gz: a small, made-up Velociraptor-style collection of one IIS server.

Run from the repository root: ``.venv/bin/python examples/triage/build.py``. The output is deterministic
(fixed member times and order), and tests/audit/test_example.py checks that the committed package is exactly
what this script builds. Every file is written here after public samples (README.md beside this file cites
each); the three DLLs are inert PE files from tests/audit/pebuild.py (no code at all, never real malware).
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.audit.pebuild import Spec, build  # noqa: E402

OUT = Path(__file__).with_name("web01-velociraptor.tar.gz")
C = "uploads/auto/C%3A/"
SYS = "%windir%\\System32\\inetsrv\\"
#: the IIS 10 default <globalModules> (names and images as MicrosoftDocs/windowsserverdocs IIS-on-Nano-Server.md
#: and the module baseline list them), in the order IIS setup writes them
DEFAULT_NATIVE = [
    ("HttpLoggingModule", "loghttp.dll"),
    ("UriCacheModule", "cachuri.dll"),
    ("FileCacheModule", "cachfile.dll"),
    ("TokenCacheModule", "cachtokn.dll"),
    ("HttpCacheModule", "cachhttp.dll"),
    ("StaticCompressionModule", "compstat.dll"),
    ("DefaultDocumentModule", "defdoc.dll"),
    ("DirectoryListingModule", "dirlist.dll"),
    ("ProtocolSupportModule", "protsup.dll"),
    ("StaticFileModule", "static.dll"),
    ("AnonymousAuthenticationModule", "authanon.dll"),
    ("RequestFilteringModule", "modrqflt.dll"),
    ("CustomErrorModule", "custerr.dll"),
    ("IsapiModule", "isapi.dll"),
    ("IsapiFilterModule", "filter.dll"),
    ("ConfigurationValidationModule", "validcfg.dll"),
]
MANAGED = [
    ("OutputCache", "System.Web.Caching.OutputCacheModule"),
    ("Session", "System.Web.SessionState.SessionStateModule"),
    ("FormsAuthentication", "System.Web.Security.FormsAuthenticationModule"),
    ("DefaultAuthentication", "System.Web.Security.DefaultAuthenticationModule"),
    ("UrlAuthorization", "System.Web.Security.UrlAuthorizationModule"),
    ("UrlRoutingModule-4.0", "System.Web.Routing.UrlRoutingModule"),
    (
        "ScriptModule-4.0",
        "System.Web.Handlers.ScriptModule, System.Web.Extensions, Version=4.0.0.0, Culture=neutral, "
        "PublicKeyToken=31bf3856ad364e35",
    ),
]


def apphost(extra_global: str = "", extra_restrictions: str = "", extra_handlers: str = "") -> str:
    native = "\n".join(f'            <add name="{n}" image="{SYS}{d}" />' for n, d in DEFAULT_NATIVE)
    managed = "\n".join(f'            <add name="{n}" type="{t}" preCondition="managedHandler" />' for n, t in MANAGED)
    enabled = "\n".join(f'            <add name="{n}" />' for n, _ in DEFAULT_NATIVE)
    fw = "%windir%\\Microsoft.NET\\Framework"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written for iisdetect's audit example after the documented IIS 10 default layout; not a copy of any server. -->
<configuration>
    <system.applicationHost>
        <applicationPools>
            <add name="DefaultAppPool" managedRuntimeVersion="v4.0" />
            <add name="Portal" managedRuntimeVersion="v4.0" />
        </applicationPools>
        <sites>
            <site name="Default Web Site" id="1">
                <application path="/">
                    <virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />
                </application>
                <application path="/portal" applicationPool="Portal">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\wwwroot\\portal" />
                </application>
            </site>
        </sites>
    </system.applicationHost>
    <system.webServer>
        <globalModules>
{native}
            <add name="ManagedEngineV4.0_32bit" image="{fw}\\v4.0.30319\\webengine4.dll" preCondition="integratedMode,runtimeVersionv4.0,bitness32" />
            <add name="ManagedEngineV4.0_64bit" image="{fw}64\\v4.0.30319\\webengine4.dll" preCondition="integratedMode,runtimeVersionv4.0,bitness64" />
{extra_global}        </globalModules>
        <httpCompression directory="%SystemDrive%\\inetpub\\temp\\IIS Temporary Compressed Files">
            <scheme name="gzip" dll="%Windir%\\system32\\inetsrv\\gzip.dll" />
        </httpCompression>
        <isapiFilters>
            <filter name="ASP.Net_4.0_32bit" path="{fw}\\v4.0.30319\\aspnet_filter.dll" enableCache="true" preCondition="runtimeVersionv4.0,bitness32" />
            <filter name="ASP.Net_4.0_64bit" path="{fw}64\\v4.0.30319\\aspnet_filter.dll" enableCache="true" preCondition="runtimeVersionv4.0,bitness64" />
        </isapiFilters>
        <security>
            <isapiCgiRestriction notListedIsapisAllowed="false" notListedCgisAllowed="false">
                <add path="{fw}\\v4.0.30319\\aspnet_isapi.dll" allowed="true" groupId="ASP.NET v4.0.30319" description="ASP.NET v4.0.30319" />
                <add path="{fw}64\\v4.0.30319\\aspnet_isapi.dll" allowed="true" groupId="ASP.NET v4.0.30319" description="ASP.NET v4.0.30319" />
{extra_restrictions}            </isapiCgiRestriction>
        </security>
        <handlers accessPolicy="Read, Script">
{extra_handlers}            <add name="PageHandlerFactory-ISAPI-4.0_64bit" path="*.aspx" verb="GET,HEAD,POST,DEBUG" modules="IsapiModule" scriptProcessor="{fw}64\\v4.0.30319\\aspnet_isapi.dll" preCondition="classicMode,runtimeVersionv4.0,bitness64" responseBufferLimit="0" />
            <add name="StaticFile" path="*" verb="*" modules="StaticFileModule,DefaultDocumentModule,DirectoryListingModule" resourceType="Either" requireAccess="Read" />
        </handlers>
        <modules>
{enabled}
{managed}
        </modules>
    </system.webServer>
</configuration>
"""


REWRITE = '            <add name="RewriteModule" image="%SystemRoot%\\system32\\inetsrv\\rewrite.dll" />\n'
ATOMIC = '            <add name="DefaultDocumentModule_Atomic" image="%windir%\\system32\\inetsrv\\defdoc.dll" />\n'
RGDOOR = '            <add name="IISCompressionHelper" image="C:\\Windows\\System32\\inetsrv\\iiscmphlp.dll" />\n'
CHART_R = (
    '                <add path="C:\\Windows\\System32\\inetsrv\\chartimg.dll" allowed="true" '
    'description="Chart Image Handler" />\n'
)
CHART_H = (
    '            <add name="ChartImg" path="ChartImg.axd2" verb="GET,POST" modules="IsapiModule" '
    'scriptProcessor="C:\\Windows\\System32\\inetsrv\\chartimg.dll" resourceType="Unspecified" '
    'preCondition="bitness64" />\n'
)
PORTAL_WEB_CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.web>
    <compilation targetFramework="4.8" />
  </system.web>
  <system.webServer>
    <modules>
      <add name="PortalCache" type="App_Web_xn2gqmcw.CacheModule, App_Web_xn2gqmcw, Version=0.0.0.0, Culture=neutral, PublicKeyToken=8c3d2b1a0f9e7d6c" preCondition="managedHandler" />
    </modules>
  </system.webServer>
</configuration>
"""
ROOT_WEB_CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <defaultDocument>
      <files><add value="index.html" /></files>
    </defaultDocument>
  </system.webServer>
</configuration>
"""
IIS_EXPRESS = """<?xml version="1.0" encoding="UTF-8"?>
<!-- IIS Express per-user configuration, written after dotnet/aspnetcore src/Servers/IIS/IntegrationTesting.IIS/src/Http.config -->
<configuration>
    <system.webServer>
        <globalModules>
            <add name="UriCacheModule" image="%IIS_BIN%\\cachuri.dll" />
            <add name="DefaultDocumentModule" image="%IIS_BIN%\\defdoc.dll" />
            <add name="StaticFileModule" image="%IIS_BIN%\\static.dll" />
            <add name="AnonymousAuthenticationModule" image="%IIS_BIN%\\authanon.dll" />
            <add name="RewriteModule" image="%IIS_BIN%\\rewrite.dll" />
            <add name="ManagedEngineV4.0_64bit" image="%windir%\\Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll" preCondition="integratedMode,runtimeVersionv4.0,bitness64" />
            <add name="AspNetCoreModuleV2" image="%IIS_BIN%\\Asp.Net Core Module\\V2\\aspnetcorev2.dll" />
        </globalModules>
    </system.webServer>
</configuration>
"""

CONFIG = C + "Windows/System32/inetsrv/config/"
HISTORY = C + "inetpub/history/"
MEMBERS: list[tuple[str, tuple[int, int, int, int, int, int], bytes]] = [
    (HISTORY + "CFGHISTORY_0000000001/applicationHost.config", (2024, 3, 1, 10, 0, 0), apphost().encode()),
    (
        HISTORY + "CFGHISTORY_0000000002/applicationHost.config",
        (2024, 3, 5, 14, 12, 0),
        apphost(REWRITE + ATOMIC).encode(),
    ),
    (
        HISTORY + "CFGHISTORY_0000000003/applicationHost.config",
        (2024, 3, 6, 9, 30, 0),
        apphost(REWRITE + RGDOOR).encode(),
    ),
    (CONFIG + "applicationHost.config", (2024, 3, 7, 16, 45, 0), apphost(REWRITE + RGDOOR, CHART_R, CHART_H).encode()),
    (C + "inetpub/wwwroot/web.config", (2024, 1, 10, 8, 0, 0), ROOT_WEB_CONFIG.encode()),
    (C + "inetpub/wwwroot/portal/web.config", (2024, 3, 6, 9, 41, 0), PORTAL_WEB_CONFIG.encode()),
    (C + "Users/dev/Documents/IISExpress/config/applicationhost.config", (2024, 2, 2, 12, 0, 0), IIS_EXPRESS.encode()),
]
DLLS = [
    (
        C + "Windows/System32/inetsrv/iiscmphlp.dll",
        Spec(
            exports=["RegisterModule"],
            imports={"KERNEL32.dll": ["CreateProcessW", "Sleep"], "CRYPT32.dll": ["CryptStringToBinaryW"]},
            pdb="C:\\Users\\dev\\source\\repos\\IISCompressionHelper\\x64\\Release\\iiscmphlp.pdb",
            timestamp=1709199000,
        ),
    ),
    (
        C + "Windows/System32/inetsrv/chartimg.dll",
        Spec(
            exports=["GetExtensionVersion", "HttpExtensionProc"],
            imports={"KERNEL32.dll": ["Sleep"]},
            signer="Contoso Charting Ltd",
            timestamp=1709650000,
        ),
    ),
    (
        C
        + "Windows/Microsoft.NET/assembly/GAC_MSIL/App_Web_xn2gqmcw/v4.0_0.0.0.0__8c3d2b1a0f9e7d6c/App_Web_xn2gqmcw.dll",
        Spec(http_module=("App_Web_xn2gqmcw", "CacheModule"), timestamp=1709710000),
    ),
]


def _epoch(when: tuple[int, int, int, int, int, int]) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())


def write(out: Path = OUT) -> Path:
    """A .tar.gz, not a zip: tar keeps UTC member times (a zip's are local and undated). ``hunt examples/``
    reads its members too: the configs are XML with no events, the DLLs are ignored."""
    items = [(name, _epoch(when), data) for name, when, data in MEMBERS]
    items += [(name, _epoch((2024, 3, 7, 17, 0, 0)), build(spec, name.rsplit("/", 1)[-1])) for name, spec in DLLS]
    with (
        open(out, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf,
    ):
        for name, mtime, data in items:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tf.addfile(info, io.BytesIO(data))
    return out


if __name__ == "__main__":
    print(write())

# ruff: noqa: E501 - the XML templates keep their lines as IIS writes them
