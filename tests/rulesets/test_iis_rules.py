# ruff: noqa: E501
"""Default ruleset (rulesets/iis): per rule, positives and near-misses; each case lists EXACTLY the rules that fire.

Asserting the full list of firing rules (by rule file) checks the intended rule fired and that every
neighbouring rule stayed silent on the same event.
"""

from __future__ import annotations

import pytest

from iisdetect.engine.evaluate import Detector
from iisdetect.engine.ruleset import load_ruleset
from tests.rulesets.iis_events import (
    ADDED,
    APPCMD,
    CFGW,
    CMD,
    CMDR,
    DLLW,
    FAILED,
    GM,
    IISSETUP,
    LOAD,
    LOG29,
    LOGCMD,
    LOGPS,
    POWERSHELL_EXE,
    REG,
    REMOVED,
    SCRIPT,
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
    # the same command from a look-alike installer still fires
    check(detector, sysmon_process(APPCMD, cmd, parent=r"C:\Users\Public\iissetup.exe"), [CMDR])


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
    ],
)
def test_script_blocks(detector: Detector, text: str, expected: list[str]) -> None:
    check(detector, ps_4104(text), expected)


# ------------------------------------------------------------------ IIS-Configuration EID 29
@pytest.mark.parametrize(
    ("configuration", "new", "old", "expected"),
    [
        (GM.format("Backdoor") + "/@name", "Backdoor", "", [ADDED]),
        (GM.format("Backdoor") + "/@image", r"C:\Windows\Temp\b.dll", "", [ADDED]),
        (GM.format("DefaultDocumentModule_Atomic") + "/@name", "DefaultDocumentModule_Atomic", "", [ADDED]),
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
        (GM.format("DefaultDocumentModule") + "/@image", r"C:\ProgramData\defdoc.dll", "", [ADDED]),
        # near-misses: built-ins, the element-only record, FastCGI handler, ASP.NET handler
        (GM.format("Backdoor"), "", "", []),
        (GM.format("DefaultDocumentModule") + "/@name", "DefaultDocumentModule", "", []),
        (GM.format("DefaultDocumentModule") + "/@image", r"%windir%\System32\inetsrv\defdoc.dll", "", []),
        ('/system.webServer/modules/add[@name="UrlRoutingModule-4.0"]/@preCondition', "managedHandler", "", []),
        ("/system.webServer/modules/add[@name='Session']/@name", "Session", "", []),
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
    assert stems == {CMDR, WEBSHELL, SCRIPT, ADDED, REMOVED, LOG29, LOGCMD, LOGPS, FAILED, CFGW, DLLW, LOAD, REG}
