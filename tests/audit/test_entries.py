"""Every registration kind is extracted with its location, XPath, expanded path and bitness."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from iisdetect.audit.entries import bitness, expand, extract

XML = """<configuration>
  <system.applicationHost><sites>
    <site name="Default Web Site" id="1">
      <application path="/"><virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" /></application>
      <application path="/owa"><virtualDirectory path="/" physicalPath="D:\\Exchange\\owa" /></application>
    </site></sites></system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="ManagedEngineV4.0_32bit" image="%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\webengine4.dll"
           preCondition="integratedMode,runtimeVersionv4.0,bitness32" />
      <add name="AppDynamics" image="%ProgramFiles(x86)%\\AppDynamics\\x.dll" />
    </globalModules>
    <httpCompression><scheme name="gzip" dll="%Windir%\\system32\\inetsrv\\gzip.dll" /></httpCompression>
    <handlers>
      <add name="StaticFile" path="*" verb="*" modules="StaticFileModule" />
      <add name="PHP" path="*.php" verb="*" modules="FastCgiModule" scriptProcessor="C:\\PHP\\php-cgi.exe|-d x=1" />
    </handlers>
  </system.webServer>
  <location path="Default Web Site/owa">
    <system.webServer>
      <isapiFilters><filter name="it's" path="C:\\f.dll" /></isapiFilters>
      <modules><add name="M" type="A.B, A" /></modules>
    </system.webServer>
    <system.web><httpModules><add name="Classic" type="C.D" /></httpModules></system.web>
  </location>
</configuration>"""


def test_extract_all_kinds() -> None:
    entries = extract(ET.fromstring(XML), "pkg!applicationHost.config", "C:\\Windows\\System32\\inetsrv\\config\\a")
    got = [(e.kind, e.name, e.location, e.resolved, e.bitness) for e in entries]
    assert got == [
        ("global_module", "ManagedEngineV4.0_32bit", "", "C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\"
         "webengine4.dll", "32"),
        ("global_module", "AppDynamics", "", "C:\\Program Files (x86)\\AppDynamics\\x.dll", "32"),
        ("handler", "PHP", "", "C:\\PHP\\php-cgi.exe", ""),  # StaticFile has no scriptProcessor: not listed
        ("compression_scheme", "gzip", "", "C:\\Windows\\system32\\inetsrv\\gzip.dll", ""),
        ("module", "M", "Default Web Site/owa", "", ""),
        ("module", "Classic", "Default Web Site/owa", "", ""),
        ("isapi_filter", "it's", "Default Web Site/owa", "C:\\f.dll", ""),
    ]  # fmt: skip
    xp = {e.name: e.xpath for e in entries}
    assert xp["AppDynamics"] == "/configuration/system.webServer/globalModules/add[@name='AppDynamics']"
    assert xp["it's"] == (
        "/configuration/location[@path='Default Web Site/owa']/system.webServer/isapiFilters/filter[@name=\"it's\"]"
    )
    assert xp["Classic"].endswith("/system.web/httpModules/add[@name='Classic']")
    assert all(e.config == "pkg!applicationHost.config" and not e.iis_express for e in entries)
    assert entries[0].precondition == "integratedMode,runtimeVersionv4.0,bitness32"


def test_expand_and_bitness() -> None:
    assert expand("%SystemRoot%\\system32\\inetsrv\\rewrite.dll") == "C:\\Windows\\system32\\inetsrv\\rewrite.dll"
    assert expand("%IIS_BIN%\\x.dll", iis_express=True) == "C:\\Program Files\\IIS Express\\x.dll"
    assert expand("%UNKNOWN%\\x.dll") == "%UNKNOWN%\\x.dll"
    assert bitness("", "C:\\Windows\\SysWOW64\\inetsrv\\x.dll") == "32"
    assert bitness("bitness64", "C:\\Windows\\SysWOW64\\x.dll") == "64"


def test_iis_express_detected() -> None:
    xml = '<configuration><system.webServer><globalModules><add name="UriCacheModule" image="%IIS_BIN%\\cachuri.dll"/>'
    xml += "</globalModules></system.webServer></configuration>"
    (e,) = extract(ET.fromstring(xml), "x", "config\\applicationhost.config")
    assert e.iis_express and e.resolved == "C:\\Program Files\\IIS Express\\cachuri.dll"


def test_location_dot_is_the_files_own_level() -> None:
    xml = '<configuration><location path="." inheritInChildApplications="false"><system.webServer><modules>'
    xml += '<add name="M" type="A.B, A" /></modules></system.webServer></location></configuration>'
    (e,) = extract(ET.fromstring(xml), "web.config", "C:\\inetpub\\wwwroot\\web.config")
    assert e.location == "" and e.xpath.startswith("/configuration/location[@path='.']/system.webServer/modules")
