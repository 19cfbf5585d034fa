# ruff: noqa: E501
"""Default ruleset (rulesets/iis), file/registry/image-load rules: positives and near-misses; each case lists EXACTLY the rules that fire.

Asserting the full list of firing rules (by rule file) checks the intended rule fired and that every
neighbouring rule stayed silent on the same event.
"""

from __future__ import annotations

import pytest

from iisdetect.engine.detector import Detector
from tests.rulesets.iis_events import (
    APPCMD,
    CFGW,
    DEPLOY,
    DLLW,
    IISSETUP,
    KNOWN_LOAD,
    LOAD,
    MASQ_LOAD,
    MSDEPLOY86,
    MSDEPSVC,
    REG,
    SYSW,
    W3WP,
    check,
    file_create,
    image_load,
    registry_set,
    security_4663,
)


# ------------------------------------------------------------------ config file writes
@pytest.mark.parametrize(
    ("target", "image", "expected"),
    [
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", r"C:\Windows\System32\notepad.exe", [CFGW]),
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", APPCMD, [CFGW]),
        (r"C:\inetpub\wwwroot\web.config", r"C:\Users\Public\drop.exe", [CFGW]),
        (r"C:\Windows\System32\inetsrv\config\redirection.config", r"C:\Windows\System32\cmd.exe", [CFGW]),
        # svchost writing anything but a CFGHISTORY snapshot still fires
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", r"C:\Windows\System32\svchost.exe", [CFGW]),
        (
            r"C:\inetpub\history\CFGHISTORY_0000000008\applicationHost.config",
            r"C:\Windows\System32\notepad.exe",
            [CFGW],
        ),  # noqa: E501
        # near-misses
        (r"C:\inetpub\history\CFGHISTORY_0000000008\applicationHost.config", r"C:\Windows\system32\svchost.exe", []),
        (
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\web.config",
            r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2washed\TiWorker.exe",
            [],
        ),  # noqa: E501
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", IISSETUP, []),
        (r"C:\inetpub\temp\appPools\DefaultAppPool\DefaultAppPool.config", r"C:\Windows\System32\svchost.exe", []),
        (r"C:\inetpub\wwwroot\web.config.bak", r"C:\Windows\System32\notepad.exe", []),
        (r"C:\Windows\System32\inetsrv\config\administration.config", r"C:\Windows\System32\notepad.exe", []),
        # Web Deploy from its install folder publishing a site's web.config: informational, not a config write
        (r"C:\inetpub\wwwroot\shop\web.config", MSDEPSVC, [DEPLOY]),
        (r"D:\Sites\shop\web.config", MSDEPLOY86, [DEPLOY]),
        (r"C:\inetpub\wwwroot\shop\web.config", r"C:\Users\Public\msdeploy.exe", [CFGW]),  # not its folder
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", MSDEPSVC, [CFGW]),  # server-wide
        (r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\web.config", MSDEPSVC, [CFGW]),
    ],
)
def test_config_file_write(detector: Detector, target: str, image: str, expected: list[str]) -> None:
    check(detector, file_create(target, image), expected)
    check(detector, security_4663(target, image), expected)


def test_config_write_4663_needs_write_access(detector: Detector) -> None:
    target = r"C:\Windows\System32\inetsrv\config\applicationHost.config"
    check(detector, security_4663(target, r"C:\Windows\System32\notepad.exe", access_mask="0x1"), [])
    check(detector, security_4663(target, r"C:\Windows\System32\notepad.exe", access_mask="0x6"), [CFGW])


# ------------------------------------------------------------------ DLL writes
@pytest.mark.parametrize(
    ("target", "image", "expected"),
    [
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", [DLLW]),
        (r"C:\inetpub\wwwroot\bin\Evil.dll", r"C:\Windows\System32\cmd.exe", [DLLW]),
        (r"D:\Web\wwwroot\shop\bin\Evil.dll", r"C:\Windows\explorer.exe", [DLLW]),
        (
            r"C:\Windows\Microsoft.NET\assembly\GAC_MSIL\Evil\v4.0_1.0.0.0__abc\Evil.dll",
            r"C:\Tools\gacutil.exe",
            [DLLW],
        ),  # noqa: E501
        (r"C:\Windows\assembly\GAC_MSIL\Evil\1.0.0.0__abc\Evil.dll", r"C:\Tools\gacutil.exe", [DLLW]),
        (r"C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\Owa\bin\owaauth.dll", W3WP, [DLLW]),
        (r"D:\Sites\shop\bin\Evil.dll", W3WP, [DLLW]),  # any bin folder, when the worker writes it
        # a site root need not be under inetpub
        (r"D:\Sites\shop\bin\Shop.dll", r"C:\Windows\System32\Robocopy.exe", [DLLW]),
        (r"E:\WebSites\intranet\api\bin\Api.dll", r"C:\Windows\System32\cmd.exe", [DLLW]),
        # Exchange on any drive or root
        (
            r"D:\Exchange\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\bin\evil.dll",
            r"C:\Windows\System32\cmd.exe",
            [DLLW],
        ),
        (r"E:\Microsoft\Exchange Server\V15\ClientAccess\Owa\auth\evil.dll", r"C:\Windows\System32\cmd.exe", [DLLW]),
        (r"E:\Microsoft\Exchange Server\V15\Bin\evil.dll", r"C:\Windows\System32\cmd.exe", [DLLW]),
        # the .NET Framework folders outside the compilation output; System32 written by the worker
        (r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\evil.dll", r"C:\Windows\System32\cmd.exe", [DLLW]),
        (r"C:\Windows\System32\system.dll", W3WP, [DLLW]),
        (r"C:\Windows\SysWOW64\x.dll", W3WP, [DLLW]),
        # the seed's substring exclusion exempted these; full paths do not
        (r"C:\Windows\System32\inetsrv\evil.dll", IISSETUP, [DLLW]),
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\evilsetup.exe", [DLLW]),
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\msiexec.exe", [DLLW]),
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\TiWorker.exe", [DLLW]),
        # near-misses
        (r"C:\Windows\System32\inetsrv\rewrite.dll", r"C:\Windows\System32\msiexec.exe", []),
        (r"C:\Windows\SysWOW64\inetsrv\rewrite.dll", r"C:\Windows\SysWOW64\msiexec.exe", []),
        (
            r"C:\Windows\System32\inetsrv\iiscore.dll",
            r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2washed\TiWorker.exe",
            [],
        ),  # noqa: E501
        (r"C:\Windows\System32\inetsrv\iiscore.dll", r"C:\Windows\servicing\TrustedInstaller.exe", []),
        (
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\owa\8e05b027\e164d\App_Web_x.dll",
            W3WP,
            [],
        ),  # noqa: E501
        (r"C:\inetpub\wwwroot\App_Data\notes.txt", r"C:\Windows\System32\cmd.exe", []),
        (r"C:\inetpub\wwwroot\x.dll", r"C:\Windows\System32\cmd.exe", []),  # not in bin
        (r"C:\Program Files\Contoso\bin\Contoso.dll", r"C:\Windows\System32\Robocopy.exe", []),  # not a site
        (
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\a\b\x.dll",
            r"C:\Windows\System32\cmd.exe",
            [],
        ),
        (r"C:\Windows\Temp\x.dll", W3WP, []),  # worker writes outside bin: not this rule
        # System32 / SysWOW64 root by a non-installer other than the worker: a report (informational)
        (r"C:\Windows\System32\evil.dll", r"C:\Windows\System32\certutil.exe", [SYSW]),
        (r"c:\windows\syswow64\Evil.DLL", r"C:\Windows\System32\cmd.exe", [SYSW]),
        (r"D:\Windows\System32\evil.dll", r"C:\Users\Public\msiexec.exe", [SYSW]),  # not the real msiexec
        (r"C:\Windows\System32\evil.dll", r"C:\Windows\System32\msiexec.exe", []),
        (r"C:\Windows\System32\evil.dll", r"C:\Windows\WinSxS\amd64_servicingstack_10.0\TiWorker.exe", []),
        (r"C:\Windows\System32\UMDF.dll", r"C:\Windows\System32\drvinst.exe", []),
        (r"C:\Windows\System32\drivers\evil.dll", r"C:\Windows\System32\cmd.exe", []),  # not the root
        (r"C:\Windows\System32\evil.dll.tmp", r"C:\Windows\System32\cmd.exe", []),
        (r"C:\Users\a\Windows\System32\evil.dll", r"C:\Windows\System32\cmd.exe", []),  # not a drive root
        # Web Deploy from its install folder publishing a site's bin: informational, not a DLL write
        (r"C:\inetpub\wwwroot\shop\bin\Shop.dll", MSDEPSVC, [DEPLOY]),
        (r"D:\Sites\shop\bin\Shop.dll", MSDEPLOY86, [DEPLOY]),
        (r"C:\inetpub\wwwroot\shop\bin\Shop.dll", r"C:\Temp\MsDepSvc.exe", [DLLW]),  # not its folder
        (r"C:\Windows\System32\inetsrv\bin\x.dll", MSDEPSVC, [DLLW]),  # server-wide places still alert
        (r"C:\Windows\Microsoft.NET\assembly\GAC_MSIL\E\v4.0_1.0.0.0__a\bin\E.dll", MSDEPSVC, [DLLW]),
        (r"E:\Microsoft\Exchange Server\V15\Bin\evil.dll", MSDEPSVC, [DLLW]),
        (r"C:\inetpub\wwwroot\shop\bin\readme.txt", MSDEPSVC, []),
    ],
)
def test_dll_write(detector: Detector, target: str, image: str, expected: list[str]) -> None:
    check(detector, file_create(target, image), expected)


def test_system32_root_write_seen_by_a_sacl(detector: Detector) -> None:
    """Security 4663 with a write mask is the same report as Sysmon 11; a read is nothing."""
    dll, certutil = r"C:\Windows\System32\system.dll", r"C:\Windows\System32\certutil.exe"
    check(detector, security_4663(dll, certutil), [SYSW])
    check(detector, security_4663(dll, certutil, access_mask="0x1"), [])
    check(detector, security_4663(dll, r"C:\Windows\System32\msiexec.exe"), [])


# ------------------------------------------------------------------ w3wp image loads
DEFENDER = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.26010.5-0"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"image_loaded": r"C:\Windows\System32\inetsrv\evil.dll", "signed": False}, [LOAD]),
        ({"image_loaded": r"C:\Windows\System32\inetsrv\owaauth.dll", "signature": "Evil Corp"}, [LOAD]),
        ({"image_loaded": r"C:\Windows\System32\inetsrv\x.dll", "status": "Expired"}, [LOAD]),
        ({"image_loaded": r"C:\Users\Public\x.dll", "signature": "Microsoft Windows"}, [LOAD]),
        ({"image_loaded": r"C:\Windows\Temp\x.dll", "signature": "Microsoft Corporation"}, [LOAD]),
        ({"image_loaded": DEFENDER + r"\MpOAV.dll", "signed": False}, [LOAD]),  # unsigned Defender look-alike
        ({"image_loaded": r"C:\ProgramData\Evil\MpOAV.dll", "signature": "Microsoft Corporation"}, [LOAD]),
        # baseline: a known vendor module from its folder with its signer is informational; anything else alerts
        (
            {"image_loaded": r"C:\Program Files\dynaTrace\agent\lib64\dtagent.dll", "signature": "Dynatrace LLC"},
            [KNOWN_LOAD],
        ),
        ({"image_loaded": r"C:\Program Files\dynaTrace\agent\lib64\dtagent.dll", "signed": False}, [LOAD]),
        ({"image_loaded": r"C:\Program Files\dynaTrace\agent\lib64\dtagent.dll", "signature": "Evil Corp"}, [LOAD]),
        ({"image_loaded": r"C:\Windows\Temp\dtagent.dll", "signature": "Dynatrace LLC"}, [LOAD, MASQ_LOAD]),
        # a Microsoft module's file name outside its folder, signed or not
        ({"image_loaded": r"C:\Windows\Temp\rewrite.dll", "signature": "Microsoft Corporation"}, [LOAD, MASQ_LOAD]),
        ({"image_loaded": r"C:\inetpub\wwwroot\bin\defdoc.dll", "signed": False}, [LOAD, MASQ_LOAD]),
        ({"image_loaded": r"D:\Sites\a\kerbauth.dll", "signature": "Microsoft Corporation"}, [MASQ_LOAD]),
        # near-misses
        ({"image_loaded": r"C:\Windows\System32\inetsrv\defdoc.dll"}, []),
        (
            {
                "image_loaded": r"C:\Windows\Microsoft.NET\assembly\GAC_64\System.Web\v4.0_4.0.0.0__b03f5f7f11d50a3a\System.Web.dll",  # noqa: E501
                "signature": "Microsoft Corporation",
            },
            [],
        ),  # fmt: skip
        ({"image_loaded": DEFENDER + r"\MpOAV.dll", "signature": "Microsoft Corporation"}, []),
        ({"image_loaded": DEFENDER + r"\MpClient.dll", "signature": "Microsoft Corporation"}, []),
        # every signer name Windows reports for Microsoft's DLLs, Defender's real folders only
        ({"image_loaded": DEFENDER + r"\MpOAV.dll", "signature": "Microsoft Windows Publisher"}, []),
        ({"image_loaded": r"C:\Program Files\Windows Defender\MpOAV.dll", "signature": "Microsoft Windows"}, []),
        (
            {"image_loaded": r"C:\ProgramData\Microsoft\Windows Defender\MpOAV.dll", "signature": "Microsoft Windows"},
            [LOAD],
        ),
        # Microsoft modules in their folders (and 32-bit twins, other drives, Exchange on another root)
        ({"image_loaded": r"C:\Windows\System32\inetsrv\rewrite.dll", "signature": "Microsoft Corporation"}, []),
        ({"image_loaded": r"C:\Windows\SysWOW64\inetsrv\rewrite.dll", "signature": "Microsoft Windows Publisher"}, []),
        (
            {
                "image_loaded": r"E:\Exch\Microsoft\Exchange Server\V15\Bin\kerbauth.dll",
                "signature": "Microsoft Corporation",
            },
            [],
        ),
        (
            {
                "image_loaded": r"C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Web\0c4b\System.Web.ni.dll",
                "signed": False,
            },
            [],
        ),  # noqa: E501
        (
            {
                "image_loaded": r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\1\2\App_Web_x.dll",
                "signed": False,
            },
            [],
        ),  # noqa: E501
        (
            {
                "image_loaded": r"C:\Windows\System32\inetsrv\evil.dll",
                "signed": False,
                "image": r"C:\Windows\System32\svchost.exe",
            },
            [],
        ),  # noqa: E501
        (
            {
                "image_loaded": r"C:\Windows\System32\inetsrv\evil.dll",
                "signed": False,
                "image": r"C:\Temp\w3wp.exe.bak",
            },
            [],
        ),  # noqa: E501
    ],
)
def test_untrusted_load(detector: Detector, kwargs: dict, expected: list[str]) -> None:
    check(detector, image_load(**kwargs), expected)


# ------------------------------------------------------------------ legacy registry
@pytest.mark.parametrize(
    ("target", "details", "image", "expected"),
    [
        (
            r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs",
            r"C:\Exchange\owaauth.dll",
            W3WP,
            [REG],
        ),
        (
            r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs\FilterDLLs",
            r"C:\evil\f.dll",
            r"C:\Windows\regedit.exe",
            [REG],
        ),  # fmt: skip
        (
            r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\ServiceDll",
            r"C:\Users\Public\iisw3adm.dll",
            r"C:\Windows\System32\reg.exe",
            [REG],
        ),  # fmt: skip
        # near-misses: value name does not point at a DLL, installer, non-IIS key
        (
            r"HKLM\System\CurrentControlSet\Services\W3SVC\Performance\Library",
            r"C:\Windows\system32\inetsrv\w3ctrs.dll",
            r"C:\Windows\regedit.exe",
            [],
        ),  # fmt: skip
        (
            r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\ServiceDll",
            r"%windir%\system32\inetsrv\iisw3adm.dll",
            r"C:\Windows\servicing\TrustedInstaller.exe",
            [],
        ),  # fmt: skip
        (r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Path", r"C:\x\a.dll", r"C:\Windows\regedit.exe", []),
    ],
)
def test_registry(detector: Detector, target: str, details: str, image: str, expected: list[str]) -> None:
    check(detector, registry_set(target, details, image), expected)
