# ruff: noqa: E501
"""Hand-built events for the default ruleset tests, field formats copied from real corpus events.

Sysmon 1 fields follow `PanacheSysmon_vs_AtomicRedTeam01.evtx` record 505, Sysmon 7/11 follow the OTRF
ProxyLogon host, 4688/4663 follow EVTX-to-MITRE-Attack Security logs; EID 29 and 2282 follow the
provider manifests (see src/iisdetect/simulate/iis_config.py and application.py).
"""

from __future__ import annotations

from itertools import count
from pathlib import Path

from iisdetect.engine.detector import Detector
from iisdetect.model.event import Event

SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
POWERSHELL = ("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell")
IISCONFIG = ("Microsoft-IIS-Configuration/Operational", "Microsoft-Windows-IIS-Configuration")
APPLICATION = ("Application", "Microsoft-Windows-IIS-W3SVC-WP")

HOST = "WEB01.corp.local"
T0 = "2026-11-20T10:15:30.123456Z"
APPCMD = r"C:\Windows\System32\inetsrv\appcmd.exe"
CMD = r"C:\Windows\System32\cmd.exe"
POWERSHELL_EXE = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
W3WP = r"C:\Windows\System32\inetsrv\w3wp.exe"
APPHOST = r"C:\Windows\system32\inetsrv\config\applicationHost.config"
HASHES = (
    "SHA1=8C5437CD76A89EC983E3B364E219944DA3DAB464,MD5=975B45B669930B0CC773EAF2B414206F,"
    "SHA256=3656F37A1C6951EC4496FABB8EE957D3A6E3C276D5A3785476B482C9C0D32EA2,IMPHASH=272245E2988E1E430500B852C4FB5E18"
)

_records = count(5000)


def event(log: tuple[str, str], event_id: int, data: dict[str, str], *, time: str = T0, host: str = HOST,
          sid: str | None = "S-1-5-18") -> Event:  # fmt: skip
    channel, provider = log
    rid = next(_records)
    return Event(channel, provider, event_id, host, time, rid, sid, dict(data), "test.evtx", f"record {rid}")


def sysmon_process(image: str, command_line: str, parent: str = CMD, parent_cmd: str = "", **kw: str) -> Event:
    data = {
        "RuleName": "",
        "UtcTime": "2026-11-20 10:15:30.120",
        "ProcessGuid": "{747F3D96-DA4A-5D31-0000-00106C293D00}",
        "ProcessId": "4056",
        "Image": image,
        "FileVersion": "10.0.17763.1 (WinBuild.160101.0800)",
        "Description": "",
        "Product": "Microsoft® Windows® Operating System",
        "Company": "Microsoft Corporation",
        "OriginalFileName": Path(image.replace("\\", "/")).name,
        "CommandLine": command_line,
        "CurrentDirectory": "C:\\AtomicRedTeam\\",
        "User": kw.pop("user", "CORP\\webadmin"),
        "LogonGuid": "{747F3D96-D4B4-5D31-0000-002051090500}",
        "LogonId": "0x50951",
        "TerminalSessionId": "1",
        "IntegrityLevel": "High",
        "Hashes": HASHES,
        "ParentProcessGuid": "{747F3D96-D6F7-5D31-0000-00104ACE2500}",
        "ParentProcessId": "3912",
        "ParentImage": parent,
        "ParentCommandLine": parent_cmd or parent,
    }
    data.update(kw)
    return event(SYSMON, 1, data)


def security_4688(image: str, command_line: str, parent: str = CMD, **kw: str) -> Event:
    data = {
        "SubjectUserSid": "S-1-5-21-3583694148-1414552638-2922671848-1105",
        "SubjectUserName": kw.pop("user", "webadmin"),
        "SubjectDomainName": "CORP",
        "SubjectLogonId": "0x50951",
        "NewProcessId": "0xfd8",
        "NewProcessName": image,
        "TokenElevationType": "%%1937",
        "ProcessId": "0xf48",
        "CommandLine": command_line,
        "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-",
        "TargetDomainName": "-",
        "TargetLogonId": "0x0",
        "ParentProcessName": parent,
        "MandatoryLabel": "S-1-16-12288",
    }
    data.update(kw)
    return event(SECURITY, 4688, data)


def ps_4104(text: str, core: bool = False, **kw: str) -> Event:
    data = {
        "MessageNumber": "1",
        "MessageTotal": "1",
        "ScriptBlockText": text,
        "ScriptBlockId": "3c5a6ea1-4f6b-4d3a-9a57-7f1e0b3c2d10",
        "Path": "",
    }
    data.update(kw)
    log = ("PowerShellCore/Operational", "PowerShellCore") if core else POWERSHELL
    return event(log, 4104, data, sid="S-1-5-21-3583694148-1414552638-2922671848-1105")


def iis_29(configuration: str, new: str = "", old: str = "", op: str = "1", *, time: str = T0, **kw: str) -> Event:
    data = {
        "PhysicalPath": APPHOST,
        "ConfigPath": "MACHINE/WEBROOT/APPHOST",
        "EffectiveLocationPath": "",
        "Configuration": configuration,
        "EditOperationType": op,
        "OldValue": old,
        "NewValue": new,
    }
    data.update(kw)
    return event(IISCONFIG, 29, data, time=time, sid="S-1-5-21-3583694148-1414552638-2922671848-1105")


def module_add_burst(name: str, image: str, *, time: str = T0, modules: bool = True, quote: str = "'") -> list[Event]:
    """The EID 29 records of one `appcmd install module` (the element, then one per committed attribute)."""
    g = f"/system.webServer/globalModules/add[@name={quote}{name}{quote}]"
    out = [iis_29(g, time=time), iis_29(g + "/@name", name, time=time), iis_29(g + "/@image", image, time=time)]
    if modules:
        m = f"/system.webServer/modules/add[@name={quote}{name}{quote}]"
        out += [iis_29(m, time=time), iis_29(m + "/@name", name, time=time)]
    return out


def app_2282(module_dll: str, provider: str = APPLICATION[1], event_id: int = 2282) -> Event:
    """A W3SVC-WP load failure (2280, 2282, 2295: ModuleDll; 2214: FilterDll), see simulate/application.py."""
    field = "FilterDll" if event_id == 2214 else "ModuleDll"
    return event(("Application", provider), event_id, {field: module_dll}, sid=None)


def image_load(image_loaded: str, *, signed: bool = True, signature: str = "Microsoft Windows",
               status: str = "Valid", image: str = W3WP, time: str = T0, host: str = HOST, **kw: str) -> Event:  # fmt: skip
    data = {
        "RuleName": "-",
        "UtcTime": "2026-11-20 10:15:30.123",
        "ProcessGuid": "{6004D249-09ED-604D-A219-000000000900}",
        "ProcessId": "10696",
        "Image": image,
        "ImageLoaded": image_loaded,
        "FileVersion": "10.0.14393.4169 (rs1_release.210107-1130)",
        "Description": "",
        "Product": "",
        "Company": "",
        "OriginalFileName": image_loaded.rsplit("\\", 1)[-1],
        "Hashes": HASHES,
        "Signed": "true" if signed else "false",
        "Signature": signature if signed else "-",
        "SignatureStatus": status if signed else "Unavailable",
        "User": "IIS APPPOOL\\DefaultAppPool",
    }
    data.update(kw)
    return event(SYSMON, 7, data, time=time, host=host)


def file_create(target: str, image: str, *, time: str = T0, host: str = HOST, **kw: str) -> Event:
    data = {
        "RuleName": "-",
        "UtcTime": "2026-11-20 10:15:30.123",
        "ProcessGuid": "{6004D249-0957-604D-6019-000000000901}",
        "ProcessId": "5120",
        "Image": image,
        "TargetFilename": target,
        "CreationUtcTime": "2026-11-20 10:15:30.123",
        "User": "CORP\\webadmin",
    }
    data.update(kw)
    return event(SYSMON, 11, data, time=time, host=host)


def security_4663(object_name: str, process: str, access_mask: str = "0x2", **kw: str) -> Event:
    data = {
        "SubjectUserSid": "S-1-5-21-3583694148-1414552638-2922671848-1105",
        "SubjectUserName": "webadmin",
        "SubjectDomainName": "CORP",
        "SubjectLogonId": "0x50951",
        "ObjectServer": "Security",
        "ObjectType": "File",
        "ObjectName": object_name,
        "HandleId": "0x50",
        "AccessList": "%%4417\r\n\t\t\t\t",
        "AccessMask": access_mask,
        "ProcessId": "0x134c",
        "ProcessName": process,
        "ResourceAttributes": "",
    }
    data.update(kw)
    return event(SECURITY, 4663, data)


def registry_set(target: str, details: str, image: str = r"C:\Windows\regedit.exe") -> Event:
    data = {
        "RuleName": "-",
        "EventType": "SetValue",
        "UtcTime": "2026-11-20 10:15:30.123",
        "ProcessGuid": "{365ABB72-7C01-5CC4-0000-0010F9530C00}",
        "ProcessId": "2992",
        "Image": image,
        "TargetObject": target,
        "Details": details,
    }
    return event(SYSMON, 13, data)


def fired(detector: Detector, ev: Event) -> list[str]:
    """Rule file stems (unique per rule) that fire on ``ev``, sorted."""
    return sorted(Path(r.path).stem for r in detector.match(ev))


# Rule file stems of rulesets/iis, for tests that list exactly which rules fire.
CMDR = "iis_module_registration_command"
WEBSHELL = "iis_module_registration_by_webshell"
SCRIPT = "iis_module_registration_script"
ADDED = "iis_config_module_added"
REMOVED = "iis_config_module_removed"
LOG29 = "iis_logging_tamper_config"
LOGCMD = "iis_logging_tamper_command"
LOGPS = "iis_logging_tamper_script"
FAILED = "iis_module_load_failed"
CFGW = "iis_config_file_write"
DLLW = "iis_dir_dll_write"
SYSW = "iis_system_dir_dll_write"
LOAD = "iis_untrusted_module_load"
REG = "iis_component_registration_registry"
KNOWN_CFG = "iis_known_module_config"
KNOWN_CMD = "iis_known_module_command"
KNOWN_PS = "iis_known_module_script"
KNOWN_LOAD = "iis_known_module_load"
MASQ_CFG = "iis_module_masquerade_config"
MASQ_LOAD = "iis_module_masquerade_load"
ENCPS = "iis_worker_encoded_powershell"
DEPLOY = "iis_known_deployment_write"
MSDEPSVC = r"C:\Program Files\IIS\Microsoft Web Deploy V3\MsDepSvc.exe"
MSDEPLOY86 = r"C:\Program Files (x86)\IIS\Microsoft Web Deploy V3\msdeploy.exe"
POWERSHELL_CORE = ("PowerShellCore/Operational", "PowerShellCore")
IISSETUP = r"C:\Windows\System32\inetsrv\iissetup.exe"
GM = "/system.webServer/globalModules/add[@name='{}']"


def check(detector: Detector, ev: Event, expected: list[str]) -> None:
    assert fired(detector, ev) == sorted(expected), ev
