# ruff: noqa: E501
"""Default ruleset (rulesets/iis): per rule, positives and near-misses; each case lists EXACTLY the rules that fire.

Asserting the full list of firing rules (by rule file) checks the intended rule fired and that every
neighbouring rule stayed silent on the same event.
"""

from __future__ import annotations

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from tests.rulesets.iis_events import (
    ADDED,
    APPCMD,
    CFGW,
    CMD,
    CMDR,
    DEPLOY,
    DLLW,
    ENCPS,
    FAILED,
    GM,
    IISSETUP,
    KNOWN_CFG,
    KNOWN_CMD,
    KNOWN_LOAD,
    KNOWN_PS,
    LOAD,
    LOG29,
    LOGCMD,
    LOGPS,
    MASQ_CFG,
    MASQ_LOAD,
    POWERSHELL_EXE,
    REG,
    REMOVED,
    SCRIPT,
    SYSW,
    W3WP,
    WEBSHELL,
    app_2282,
    check,
    iis_29,
    ps_4104,
    security_4688,
    sysmon_process,
)

# ------------------------------------------------------------------ registration commands (Sysmon 1)
CMDLINES = [
    # (command line, image, expected without a w3wp parent)
    (rf"{APPCMD} install module /name:Backdoor /image:C:\Windows\Temp\b.dll", APPCMD, [CMDR]),
    (r'"C:\Windows\System32\InetSRV\appcmd.exe"  INSTALL   MODULE -name:Backdoor -image:c:\x\b.dll', APPCMD, [CMDR]),
    (rf'{APPCMD} add module /name:"Mgd" /type:"Evil.Module, Evil"', APPCMD, [CMDR]),
    (rf"{APPCMD} set config -section:system.webServer/globalModules /+[name='X',image='c:\x.dll']", APPCMD, [CMDR]),
    (rf'{APPCMD} set config "Default Web Site" /section:isapiFilters /+[name=\'F\',path=\'c:\f.dll\']', APPCMD, [CMDR]),
    (rf"{APPCMD} set config /section:system.webServer/modules /+[name='M',type='T']", APPCMD, [CMDR]),
    (
        rf"{APPCMD}  set config /section:isapiCgiRestriction /+[path='C:\x\e.dll',allowed='True'] /commit:apphost",
        APPCMD,
        [CMDR],
    ),
    (
        rf"{APPCMD} set config /section:handlers /+[name='I',path='*.x',verb='*',modules='IsapiModule',scriptProcessor='c:\i.dll']",
        APPCMD,
        [CMDR],
    ),  # noqa: E501
    (rf'{CMD} /c "{APPCMD} install module /name:Backdoor /image:c:\b.dll"', CMD, [CMDR]),  # via cmd.exe
    (r"C:\Tools\gacutil.exe /i C:\Users\Public\Evil.dll", r"C:\Tools\gacutil.exe", [CMDR]),
    (r"gacutil -if Evil.dll", r"C:\Tools\gacutil.exe", [CMDR]),
    (rf"{POWERSHELL_EXE} -c New-WebGlobalModule -Name X -Image c:\x.dll", POWERSHELL_EXE, [CMDR]),
    (
        rf"{POWERSHELL_EXE} -c \"[System.EnterpriseServices.Internal.Publish]::new().GacInstall('c:\e.dll')\"",
        POWERSHELL_EXE,
        [CMDR],
    ),  # noqa: E501
    (
        rf"{POWERSHELL_EXE} -c Add-WebConfigurationProperty -Filter system.webServer/globalModules -Name . -Value @{{name='X'}}",
        POWERSHELL_EXE,
        [CMDR],
    ),  # noqa: E501
    (rf"{POWERSHELL_EXE} -c New-WebManagedModule -Name M -Type Evil.M", POWERSHELL_EXE, [CMDR]),
    # near-misses
    (rf"{APPCMD} uninstall module Backdoor", APPCMD, []),
    (rf"{APPCMD} list modules", APPCMD, []),
    (rf'"{APPCMD}"  list vdir /text:physicalpath', APPCMD, []),  # corpus: IIS credential discovery
    (rf"{APPCMD} set config /section:defaultDocument /+files.[value='x.htm']", APPCMD, []),
    (rf"{APPCMD} add site /name:Shop /bindings:http/*:80: /physicalPath:c:\sites\shop", APPCMD, []),
    (r"C:\Tools\gacutil.exe /l", r"C:\Tools\gacutil.exe", []),
    (r"C:\Tools\gacutil.exe /u Evil", r"C:\Tools\gacutil.exe", []),
    (rf"{POWERSHELL_EXE} -c Get-WebGlobalModule", POWERSHELL_EXE, []),
    (rf"{POWERSHELL_EXE} -c Remove-WebGlobalModule -Name X", POWERSHELL_EXE, []),
    (
        rf"{POWERSHELL_EXE} -c Add-WebConfigurationProperty -Filter system.webServer/defaultDocument/files -Name .",
        POWERSHELL_EXE,
        [],
    ),  # noqa: E501
    (r"C:\Windows\System32\msiexec.exe /i C:\install\module.msi", r"C:\Windows\System32\msiexec.exe", []),
]


@pytest.mark.parametrize(("cmdline", "image", "expected"), CMDLINES)
def test_registration_command_sysmon(detector: Detector, cmdline: str, image: str, expected: list[str]) -> None:
    check(detector, sysmon_process(image, cmdline), expected)


@pytest.mark.parametrize(("cmdline", "image", "expected"), CMDLINES)
def test_registration_command_4688(detector: Detector, cmdline: str, image: str, expected: list[str]) -> None:
    check(detector, security_4688(image, cmdline), expected)


@pytest.mark.parametrize(("cmdline", "image", "expected"), CMDLINES)
def test_registration_by_webshell(detector: Detector, cmdline: str, image: str, expected: list[str]) -> None:
    """A w3wp.exe parent moves every positive to the web-shell rule (and only there)."""
    want = [WEBSHELL] if expected else []
    check(detector, sysmon_process(image, cmdline, parent=W3WP), want)
    check(detector, security_4688(image, cmdline, parent=W3WP), want)


def test_iissetup_parent_is_benign(detector: Detector) -> None:
    cmd = rf"{APPCMD} install module /name:DefaultDocumentModule /image:%windir%\System32\inetsrv\defdoc.dll"
    check(detector, sysmon_process(APPCMD, cmd, parent=IISSETUP), [])
    check(detector, security_4688(APPCMD, cmd, parent=IISSETUP), [])
    # the same known module from another parent: reported at level informational only
    check(detector, sysmon_process(APPCMD, cmd, parent=r"C:\Users\Public\iissetup.exe"), [KNOWN_CMD])
    # an unknown module from a look-alike installer still fires
    other = rf"{APPCMD} install module /name:Backdoor /image:%windir%\System32\inetsrv\defdoc.dll"
    check(detector, sysmon_process(APPCMD, other, parent=r"C:\Users\Public\iissetup.exe"), [CMDR])


# ------------------------------------------------------------------ baseline: known modules on the command line
@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        # Dynatrace AppMon's documented install (Dynatrace/Dynatrace-AppMon-Powershell InstallWebserverAgent.psm1)
        (
            rf'{APPCMD} install module /name:"Dynatrace Webserver Agent (64bit)" /image:"C:\Program Files\Dynatrace\AppMon 7.2\agent\lib64\dtagent.dll" /add:true /lock:true',
            [KNOWN_CMD],
        ),
        (rf"{APPCMD} install module /name:RewriteModule /image:%SystemRoot%\system32\inetsrv\rewrite.dll", [KNOWN_CMD]),
        (rf"{APPCMD} install module /name:RewriteModule /image:C:\Windows\System32\inetsrv\rewrite.dll", [KNOWN_CMD]),
        # a known name with another image, a look-alike name, a known image under another name: not known
        (rf"{APPCMD} install module /name:RewriteModule /image:C:\Windows\Temp\rewrite.dll", [CMDR]),
        (rf"{APPCMD} install module /name:RewriteModule2 /image:%SystemRoot%\system32\inetsrv\rewrite.dll", [CMDR]),
        (rf"{APPCMD} install module /name:Backdoor /image:%SystemRoot%\system32\inetsrv\rewrite.dll", [CMDR]),
        # the ART default: a built-in's name with a suffix, and the built-in's own DLL
        (
            rf"{APPCMD} install module /name:DefaultDocumentModule_Atomic /image:%windir%\system32\inetsrv\defdoc.dll",
            [CMDR],
        ),
        # a renamed appcmd (Sysmon OriginalFileName) registering an unknown module
    ],
)
def test_registration_command_baseline(detector: Detector, cmdline: str, expected: list[str]) -> None:
    check(detector, sysmon_process(APPCMD, cmdline), expected)


def test_renamed_appcmd_by_original_file_name(detector: Detector) -> None:
    renamed = r"C:\ProgramData\svc.exe"
    ev = sysmon_process(
        renamed, rf"{renamed} install module /name:Backdoor /image:c:\b.dll", OriginalFileName="appcmd.exe"
    )
    check(detector, ev, [CMDR])
    ev = sysmon_process(
        renamed, rf"{renamed} install module /name:Backdoor /image:c:\b.dll", OriginalFileName="svc.exe"
    )
    check(detector, ev, [])  # nothing says appcmd: no rule can tell


# ------------------------------------------------------------------ Microsoft.Web.Administration on the command line
def test_mwa_one_liner(detector: Detector) -> None:
    cmd = (rf"{POWERSHELL_EXE} -c \"$m=New-Object Microsoft.Web.Administration.ServerManager;"
           r"$c=$m.GetApplicationHostConfiguration();$s=$c.GetSection('system.webServer/globalModules');"
           r"$e=$s.GetCollection().CreateElement('add');$e['name']='X';$e['image']='c:\x.dll';"
           r"$s.GetCollection().Add($e);$m.CommitChanges()\"")  # fmt: skip
    check(detector, sysmon_process(POWERSHELL_EXE, cmd), [CMDR])
    check(detector, sysmon_process(POWERSHELL_EXE, cmd, parent=W3WP), [WEBSHELL])
    read_only = rf"{POWERSHELL_EXE} -c \"(New-Object Microsoft.Web.Administration.ServerManager).GetApplicationHostConfiguration().GetSection('system.webServer/globalModules')\""
    check(detector, sysmon_process(POWERSHELL_EXE, read_only), [])


# ------------------------------------------------------------------ encoded registration from w3wp
def _enc(text: str) -> str:
    import base64

    return base64.b64encode(text.encode("utf-16-le")).decode()


@pytest.mark.parametrize(
    ("switch", "script", "parent", "expected"),
    [
        (
            "-enc",
            r"& C:\Windows\System32\inetsrv\appcmd.exe install module /name:X /image:C:\Windows\Temp\x.dll",
            W3WP,
            [ENCPS],
        ),
        ("-e", "New-WebGlobalModule -Name X -Image C:\\x.dll", W3WP, [ENCPS]),
        (
            "-EncodedCommand",
            "[System.EnterpriseServices.Internal.Publish]::new().GacInstall('C:\\t\\e.dll')",
            W3WP,
            [ENCPS],
        ),
        ("/ec", "$s.GetSection('system.webServer/isapiFilters'); $m.CommitChanges()", W3WP, [ENCPS]),
        # near-misses: not a registration (the corpus web shell decrypts a payload), not w3wp, not encoded
        ("-enc", "$key=[Text.Encoding]::UTF8.GetBytes('x'); [IO.File]::ReadAllBytes('C:\\Windows\\Temp\\a')", W3WP, []),
        ("-enc", "New-WebGlobalModule -Name X -Image C:\\x.dll", CMD, []),
    ],
)
def test_encoded_registration_from_w3wp(
    detector: Detector, switch: str, script: str, parent: str, expected: list[str]
) -> None:
    cmd = f"{POWERSHELL_EXE} -nop -noni {switch} {_enc(script)}"
    check(detector, sysmon_process(POWERSHELL_EXE, cmd, parent=parent), expected)
    check(detector, security_4688(POWERSHELL_EXE, cmd, parent=parent), expected)


def test_webshell_parent_needs_w3wp_suffix(detector: Detector) -> None:
    cmd = rf"{APPCMD} install module /name:B /image:c:\b.dll"
    check(detector, sysmon_process(APPCMD, cmd, parent=r"C:\Users\Public\notw3wp.exe.bak"), [CMDR])


def test_process_rules_need_process_channels(detector: Detector) -> None:
    ev = sysmon_process(APPCMD, rf"{APPCMD} install module /name:B /image:c:\b.dll")
    ev.channel, ev.provider = "Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell"
    check(detector, ev, [])


# ------------------------------------------------------------------ PowerShell 4104
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("New-WebGlobalModule -Name X -Image c:\\x.dll", [SCRIPT]),
        ("Import-Module WebAdministration; Enable-WebGlobalModule -Name X", [SCRIPT]),
        ("Set-WebGlobalModule -Name X -Image C:\\evil\\x.dll", [SCRIPT]),
        ("New-WebManagedModule -Name M -Type 'Evil.M, Evil'", [SCRIPT]),
        (
            "[Reflection.Assembly]::LoadWithPartialName('System.EnterpriseServices') | Out-Null\n"
            "$p = New-Object System.EnterpriseServices.Internal.Publish\n$p.GacInstall('C:\\t\\e.dll')",
            [SCRIPT],
        ),  # fmt: skip
        (
            "Add-WebConfigurationProperty -PSPath 'IIS:\\' -Filter system.webServer/isapiFilters -Name . "
            "-Value @{name='F';path='c:\\f.dll'}",
            [SCRIPT],
        ),  # fmt: skip
        (
            "New-IISConfigCollectionElement -ConfigCollection (Get-IISConfigSection -SectionPath "
            "'system.webServer/globalModules' | Get-IISConfigCollection) -ConfigAttribute @{name='X';image='c:\\x.dll'}",
            [SCRIPT],
        ),
        ("Start-Process appcmd.exe -ArgumentList 'install module /name:B /image:c:\\b.dll'", [SCRIPT]),
        # Microsoft.Web.Administration
        (
            'Add-Type -Path "$env:windir\\system32\\inetsrv\\Microsoft.Web.Administration.dll"\n'
            "$sm = New-Object Microsoft.Web.Administration.ServerManager\n"
            '$sec = $sm.GetApplicationHostConfiguration().GetSection("system.webServer/globalModules")\n'
            '$el = $sec.GetCollection().CreateElement("add"); $el["name"] = "X"; $el["image"] = "C:\\x.dll"\n'
            "$sec.GetCollection().Add($el) | Out-Null; $sm.CommitChanges()",
            [SCRIPT],
        ),  # fmt: skip
        (
            "$sm.GetWebConfiguration('Default Web Site').GetSection('system.webServer/modules'); $sm.CommitChanges()",
            [SCRIPT],
        ),
        # direct edit of the configuration file as XML (logs no EID 29)
        (
            "$x = [xml](Get-Content C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config)\n"
            "$n = $x.SelectSingleNode('/configuration/system.webServer/globalModules').AppendChild($x.CreateElement('add'))\n"
            "$n.SetAttribute('name','X'); $n.SetAttribute('image','C:\\x.dll')\n"
            "$x.Save('C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config')",
            [SCRIPT],
        ),  # fmt: skip
        # baseline: a known module with its own image is informational; with another image it alerts
        ("New-WebGlobalModule -Name RewriteModule -Image '%SystemRoot%\\system32\\inetsrv\\rewrite.dll'", [KNOWN_PS]),
        ("New-WebGlobalModule -Name RewriteModule -Image 'C:\\Users\\Public\\rewrite.dll'", [SCRIPT]),
        # logging tamper, other documented forms
        ("Set-ItemProperty 'IIS:\\Sites\\Default Web Site' -Name logFile.enabled -Value $false", [LOGPS]),
        (
            "Set-WebConfigurationProperty -Filter system.webServer/httpLogging -Name selectiveLogging -Value LogError",
            [LOGPS],
        ),
        (
            "set-WebConfigurationProperty -PSPath 'IIS:\\Sites\\Default Web Site\\' "
            "-filter 'system.webServer/httpLogging' -name dontLog -value $true",
            [LOGPS],
        ),  # fmt: skip
        # near-misses
        ("Get-WebGlobalModule | Select-Object Name, Image", []),
        ("Remove-WebGlobalModule -Name DefaultDocumentModule_Atomic", []),
        ("Add-WebConfigurationProperty -Filter system.webServer/defaultDocument/files -Name . -Value x.htm", []),
        ("Get-WebConfigurationProperty -Filter system.webServer/httpLogging -Name dontLog", []),
        ("set-WebConfigurationProperty -filter 'system.webServer/httpLogging' -name dontLog -value $false", []),
        ("Import-Module WebAdministration", []),
        ("$sm.GetApplicationHostConfiguration().GetSection('system.webServer/globalModules').GetCollection()", []),
        ("$x = [xml](Get-Content C:\\inetpub\\wwwroot\\web.config); $x.configuration.'system.webServer'.modules", []),
        ("Set-ItemProperty 'IIS:\\Sites\\Default Web Site' -Name logFile.enabled -Value $true", []),
        ("Set-WebConfigurationProperty -Filter system.webServer/httpLogging -Name selectiveLogging -Value LogAll", []),
    ],
)
def test_script_blocks(detector: Detector, text: str, expected: list[str]) -> None:
    check(detector, ps_4104(text), expected)
    check(detector, ps_4104(text, core=True), expected)  # PowerShell 7: PowerShellCore/Operational


# ------------------------------------------------------------------ IIS-Configuration EID 29
@pytest.mark.parametrize(
    ("configuration", "new", "old", "expected"),
    [
        (GM.format("Backdoor") + "/@name", "Backdoor", "", [ADDED]),
        (GM.format("Backdoor") + "/@image", r"C:\Windows\Temp\b.dll", "", [ADDED]),
        (GM.format("DefaultDocumentModule_Atomic") + "/@name", "DefaultDocumentModule_Atomic", "", [ADDED, MASQ_CFG]),
        (
            GM.format("DefaultDocumentModule_Atomic") + "/@image",
            r"%windir%\system32\inetsrv\defdoc.dll",
            "",
            [ADDED, MASQ_CFG],
        ),
        # double-quoted element keys, as Windows writes them
        ('/system.webServer/globalModules/add[@name="Backdoor"]/@image', r"C:\Windows\Temp\b.dll", "", [ADDED]),
        (
            '/system.webServer/globalModules/add[@name="DefaultDocumentModule"]/@image',
            r"C:\Windows\Temp\b.dll",
            "",
            [ADDED, MASQ_CFG],
        ),
        (
            '/system.webServer/globalModules/add[@name="RewriteModule"]/@image',
            r"%SystemRoot%\system32\inetsrv\rewrite.dll",
            "",
            [KNOWN_CFG],
        ),
        (
            '/system.webServer/globalModules/add[@name="RewriteModule"]/@image',
            r"%IIS_BIN%\rewrite.dll",
            "",
            [KNOWN_CFG],
        ),
        ('/system.webServer/globalModules/add[@name="RewriteModule"]/@name', "RewriteModule", "", [KNOWN_CFG]),
        # an existing built-in re-pointed in place (value change, EditOperationType 1 too), even inside inetsrv
        (
            '/system.webServer/globalModules/add[@name="StaticFileModule"]/@image',
            r"%windir%\System32\inetsrv\static2.dll",
            r"%windir%\System32\inetsrv\static.dll",
            [ADDED, MASQ_CFG],
        ),
        # Exchange's own modules on another drive and root; the same name elsewhere is not
        (
            '/system.webServer/globalModules/add[@name="exppw"]/@image',
            r"E:\Apps\Microsoft\Exchange Server\V15\ClientAccess\Owa\auth\exppw.dll",
            "",
            [KNOWN_CFG],
        ),
        (
            '/system.webServer/globalModules/add[@name="exppw"]/@image',
            r"C:\Windows\Temp\exppw.dll",
            "",
            [ADDED, MASQ_CFG],
        ),
        # look-alike ISAPI filter key
        (
            "/system.webServer/isapiFilters/filter[@name='ASP.Net_4.0_64bit']/@path",
            r"C:\Windows\Temp\f.dll",
            "",
            [ADDED],
        ),
        ("/system.webServer/modules/add[@name='Mgd']/@type", "Evil.Module, Evil", "", [ADDED]),
        ("/system.webServer/isapiFilters/filter[@name='OwaAuth']/@name", "OwaAuth", "", [ADDED]),
        ("/system.webServer/isapiFilters/filter[@name='owaauth']/@path", r"C:\Exchange\owaauth.dll", "", [ADDED]),
        ("/system.webServer/handlers/add[@name='x']/@scriptProcessor", r"C:\inetpub\x.dll", "", [ADDED]),
        ("/system.webServer/security/isapiCgiRestriction/add[@path='C:\\x\\e.dll']/@path", r"C:\x\e.dll", "", [ADDED]),
        ("/system.webServer/security/isapiCgiRestriction/add[@path='C:\\x\\e.dll']/@allowed", "true", "", []),
        (
            "/system.webServer/security/isapiCgiRestriction/add[@path='x']/@path",
            r"%windir%\Microsoft.NET\Framework64\v4.0.30319\aspnet_isapi.dll",
            "",
            [],
        ),
        ("/system.webServer/security/isapiCgiRestriction/add[@path='x']/@path", r"C:\PHP\php-cgi.exe", "", []),
        # a built-in name pointed at a non-standard DLL is not allow-listed
        (GM.format("DefaultDocumentModule") + "/@image", r"C:\ProgramData\defdoc.dll", "", [ADDED, MASQ_CFG]),
        # near-misses: built-ins, the element-only record, FastCGI handler, ASP.NET handler
        (GM.format("Backdoor"), "", "", []),
        (GM.format("DefaultDocumentModule") + "/@name", "DefaultDocumentModule", "", [KNOWN_CFG]),
        (GM.format("DefaultDocumentModule") + "/@image", r"%windir%\System32\inetsrv\defdoc.dll", "", [KNOWN_CFG]),
        (
            '/system.webServer/modules/add[@name="UrlRoutingModule-4.0"]/@preCondition',
            "managedHandler",
            "",
            [KNOWN_CFG],
        ),
        ("/system.webServer/modules/add[@name='Session']/@name", "Session", "", [KNOWN_CFG]),
        (
            '/system.webServer/modules/add[@name="Session"]/@type',
            "System.Web.SessionState.SessionStateModule",
            "",
            [KNOWN_CFG],
        ),
        (
            "/system.webServer/isapiFilters/filter[@name='ASP.Net_4.0_64bit']/@path",
            r"%windir%\Microsoft.NET\Framework64\v4.0.30319\aspnet_filter.dll",
            "",
            [],
        ),  # fmt: skip
        ("/system.webServer/handlers/add[@name='PHP']/@scriptProcessor", r"C:\PHP\php-cgi.exe", "", []),
        ("/system.webServer/handlers/add[@name='x']/@path", "*.dll", "", []),
        (
            "/system.webServer/handlers/add[@name='PageHandlerFactory-ISAPI-4.0_64bit']/@scriptProcessor",
            r"%windir%\Microsoft.NET\Framework64\v4.0.30319\aspnet_isapi.dll",
            "",
            [],
        ),  # fmt: skip
        ("/system.webServer/defaultDocument/files/add[@value='x.htm']/@value", "x.htm", "", []),
        # removals
        ("/system.webServer/modules/remove[@name='WebDAVModule']/@name", "WebDAVModule", "", [REMOVED]),
        (GM.format("Backdoor"), "", "Backdoor", [REMOVED]),
        ("/system.webServer/isapiFilters/filter[@name='OwaAuth']/@path", "", r"C:\x\owaauth.dll", [REMOVED]),
        ("/system.webServer/isapiFilters/filter[@name='OwaAuth']", "", "", []),
        (GM.format("Backdoor") + "/@image", "", r"C:\Windows\Temp\b.dll", [REMOVED]),
        # logging tamper
        ("/system.webServer/httpLogging/@dontLog", "true", "false", [LOG29]),
        (
            "/system.applicationHost/sites/site[@name='Default Web Site']/logFile/@logTargetW3C",
            "File",
            "File,ETW",
            [LOG29],
        ),  # noqa: E501
        ("/system.applicationHost/sites/siteDefaults/logFile/@enabled", "false", "true", [LOG29]),
        ("/system.webServer/httpLogging/@selectiveLogging", "LogError", "LogAll", [LOG29]),
        ("/system.webServer/httpLogging/@selectiveLogging", "LogAll", "LogError", []),
        ("/system.webServer/httpLogging/@dontLog", "false", "true", []),
        ("/system.applicationHost/sites/site[@name='Default Web Site']/logFile/@logTargetW3C", "File,ETW", "ETW", []),
        ("/system.applicationHost/sites/site[@name='Default Web Site']/logFile/@logTargetW3C", "File,ETW", "File", []),
    ],
)
def test_eid29(detector: Detector, configuration: str, new: str, old: str, expected: list[str]) -> None:
    check(detector, iis_29(configuration, new, old), expected)


def test_eid29_needs_its_event_id_and_channel(detector: Detector) -> None:
    ev = iis_29(GM.format("Backdoor") + "/@name", "Backdoor")
    ev.event_id = 50
    check(detector, ev, [])
    ev = iis_29(GM.format("Backdoor") + "/@name", "Backdoor")
    ev.channel, ev.provider = "Application", "SomethingElse"
    check(detector, ev, [])
    # provider alone is enough (a forwarded copy that lost its channel name)
    ev = iis_29(GM.format("Backdoor") + "/@name", "Backdoor")
    ev.channel = "ForwardedEvents"
    check(detector, ev, [ADDED])


# ------------------------------------------------------------------ Application 2282
@pytest.mark.parametrize("event_id", [2280, 2282, 2214, 2295])
def test_every_w3svc_wp_load_failure(detector: Detector, event_id: int) -> None:
    check(detector, app_2282(r"C:\Windows\Temp\b.dll", event_id=event_id), [FAILED])
    check(detector, app_2282(r"C:\Windows\Temp\b.dll", provider="MsiInstaller", event_id=event_id), [])
    check(detector, app_2282(r"C:\Windows\Temp\b.dll", event_id=2296), [])  # bad precondition: not a load failure


def test_module_load_failed(detector: Detector) -> None:
    check(detector, app_2282(r"C:\Windows\System32\inetsrv\b.dll"), [FAILED])
    check(detector, app_2282(r"C:\x\b.dll", provider="W3SVC-WP"), [FAILED])
    check(detector, app_2282(r"C:\x\b.dll", provider="MsiInstaller"), [])  # another provider's 2282


# ------------------------------------------------------------------ command-line logging tamper
@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        # the corpus event (PanacheSysmon_vs_AtomicRedTeam01.evtx record 505), verbatim
        (
            r'"C:\Windows\system32\cmd.exe" /c "C:\Windows\System32\inetsrv\appcmd.exe set config " '
            r'"Default /section:httplogging /dontLog:true"',
            [LOGCMD],
        ),  # fmt: skip
        (rf'{APPCMD} set config "Default Web Site" -section:system.webServer/httpLogging -dontLog:"True"', [LOGCMD]),
        (
            rf"{POWERSHELL_EXE} -c Set-WebConfigurationProperty -Filter system.webServer/httpLogging -Name dontLog -Value $true",
            [LOGCMD],
        ),  # noqa: E501
        (
            rf'{APPCMD} set config -section:system.applicationHost/sites /siteDefaults.logFile.logTargetW3C:"File" /commit:apphost',
            [LOGCMD],
        ),
        (
            rf'{APPCMD} set config -section:system.applicationHost/sites /[name=\'Default Web Site\'].logFile.enabled:"False"',
            [LOGCMD],
        ),
        (
            rf'{APPCMD} set config -section:system.applicationHost/sites /siteDefaults.logFile.logTargetW3C:"File,ETW" /commit:apphost',
            [],
        ),
        (rf"{APPCMD} set config -section:system.applicationHost/sites /siteDefaults.logFile.logTargetW3C:ETW", []),
        (rf"{APPCMD} set config -section:system.applicationHost/sites /siteDefaults.logFile.enabled:true", []),
        # the other documented forms: set site, any section path for dontLog, selectiveLogging, PowerShell
        (rf'{APPCMD} set site "Default Web Site" /logFile.enabled:false', [LOGCMD]),
        (rf"{APPCMD} set config /section:system.webServer/httpLogging /dontLog:True /commit:apphost", [LOGCMD]),
        (rf"{APPCMD} set config /section:httpLogging /selectiveLogging:LogError", [LOGCMD]),
        (rf"{APPCMD} set config /section:httpLogging /selectiveLogging:LogAll", []),
        (
            rf"{POWERSHELL_EXE} -c Set-ItemProperty 'IIS:\Sites\Default Web Site' -Name logFile.enabled -Value $false",
            [LOGCMD],
        ),
        (rf"{POWERSHELL_EXE} -c Set-ItemProperty 'IIS:\Sites\Default Web Site' -Name logFile.enabled -Value $true", []),
        (rf'{APPCMD} set site "Default Web Site" /logFile.enabled:true', []),
        (rf"{APPCMD} set config /section:httplogging /dontLog:false", []),
        (rf"{APPCMD} list config /section:httplogging", []),
    ],
)
def test_logging_tamper_command(detector: Detector, cmdline: str, expected: list[str]) -> None:
    check(detector, sysmon_process(CMD, cmdline, parent=POWERSHELL_EXE), expected)
    check(detector, security_4688(CMD, cmdline, parent=POWERSHELL_EXE), expected)
    check(detector, sysmon_process(CMD, cmdline, parent=IISSETUP), [])


def test_every_rule_has_a_positive_here() -> None:
    """Guard: a new rule file must get cases in this module."""
    stems = {r.path.rsplit("/", 1)[-1].removesuffix(".yml") for r in load_ruleset("iis")}
    assert stems == {CMDR, WEBSHELL, SCRIPT, ADDED, REMOVED, LOG29, LOGCMD, LOGPS, FAILED, CFGW, DLLW, LOAD, REG,
                     KNOWN_CFG, KNOWN_CMD, KNOWN_PS, KNOWN_LOAD, MASQ_CFG, MASQ_LOAD, ENCPS, DEPLOY, SYSW}  # fmt: skip
