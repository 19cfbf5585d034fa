"""The faithful seed ruleset: every branch, its documented quirks, and its neighbours staying silent."""

from __future__ import annotations

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from tests.helpers import SECURITY, ev, file_create, image_load, registry_set

REG, WRITE, LOAD = "IIS_Component_Registration", "IIS_Dir_DLL_Write", "IIS_Non_Standard_Module_Load"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_ruleset("seed"))


def fired(detector: Detector, event) -> list[str]:
    return [r.detection_type for r in detector.match(event)]


def test_seed_has_three_rules_with_seed_metadata() -> None:
    rules = load_ruleset("seed")
    assert sorted(r.detection_type for r in rules) == sorted([REG, WRITE, LOAD])
    for r in rules:
        assert r.level == "high"
        assert "attack.persistence" in r.tags and "attack.t1505.004" in r.tags
        assert any("APM" in fp for fp in r.falsepositives)
        assert "Faithful" in r.description


@pytest.mark.parametrize(
    ("target", "details", "expected"),
    [
        (r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs", r"C:\evil\f.dll", [REG]),
        (r"HKLM\SOFTWARE\Microsoft\InetStp\GlobalModules\x", r"C:\x\MOD.DLL", [REG]),
        (r"HKLM\SOFTWARE\Microsoft\inetsrv\foo", r"c:\x\a.dll;other", [REG]),  # contains .dll anywhere
        (r"HKLM\System\CurrentControlSet\Services\W3SVC\Start", "DWORD (0x00000002)", []),  # no .dll
        (r"HKLM\SOFTWARE\Microsoft\Windows\Run\x", r"C:\x\a.dll", []),  # not an IIS key
    ],
)
def test_registry_branch(detector: Detector, target: str, details: str, expected: list[str]) -> None:
    assert fired(detector, registry_set(target, details)) == expected


@pytest.mark.parametrize(
    ("target", "image", "expected"),
    [
        (
            r"C:\Windows\System32\inetsrv\df00tech-test.dll",
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            [WRITE],
        ),
        (r"C:\inetpub\wwwroot\bin\app.DLL", r"C:\Tools\robocopy.exe", [WRITE]),  # upper-case .DLL still ends with .dll
        (r"C:\Windows\System32\inetsrv\x.dll", r"C:\Windows\System32\msiexec.exe", []),  # installer excluded
        # the seed's substring exclusion: anything *setup.exe* is exempt, even iissetup.exe and attacker binaries
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\evilsetup.exe", []),
        (r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Windows\System32\inetsrv\iissetup.exe", []),
        # the seed's WHERE does not exclude wusa/dism (its CASE does): the faithful rule follows the WHERE
        (r"C:\Windows\System32\inetsrv\x.dll", r"C:\Windows\System32\wusa.exe", [WRITE]),
        (r"C:\Windows\System32\inetsrv\x.dll", r"C:\Windows\System32\Dism.exe", [WRITE]),
        # forward slashes are not the backslash patterns the seed asks for
        (r"C:/Windows/System32/inetsrv/x.dll", r"C:\Tools\copy.exe", []),
        (r"C:\Windows\System32\inetsrv\config\applicationHost.config", r"C:\Tools\x.exe", []),  # not a .dll
        (r"C:\Windows\System32\drivers\x.dll", r"C:\Tools\x.exe", []),  # not an IIS folder
    ],
)
def test_dll_write_branch(detector: Detector, target: str, image: str, expected: list[str]) -> None:
    assert fired(detector, file_create(target, image)) == expected


@pytest.mark.parametrize(
    ("loaded", "image", "expected"),
    [
        (r"C:\Users\Public\evil.dll", None, [LOAD]),
        (r"C:\Windows\Temp\mod.DLL", None, [LOAD]),
        # benign Defender DLL: a documented seed false positive
        (r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.26010.5-0\MpOAV.dll", None, [LOAD]),
        (r"C:\Users\dev\AppData\Local\Temp\x.dll", None, [LOAD]),
        (r"C:\Windows\System32\inetsrv\evilmod.dll", None, []),  # unsigned module in inetsrv: missed by the seed
        (r"C:\Users\Public\evil.dll", r"C:\Windows\System32\svchost.exe", []),  # not w3wp
        (r"C:\Users\Public\evil.exe", None, []),  # not a .dll
        ("C:/Users/Public/evil.dll", None, []),  # forward slashes
    ],
)
def test_module_load_branch(detector: Detector, loaded: str, image: str | None, expected: list[str]) -> None:
    event = image_load(loaded) if image is None else image_load(loaded, image=image)
    assert fired(detector, event) == expected


def test_same_event_id_on_other_channels_is_ignored(detector: Detector) -> None:
    load = image_load(r"C:\Users\Public\evil.dll")
    other = ev(7, load.data, log=("Application", "SomeApp"))
    assert fired(detector, other) == []
    sec = ev(11, file_create(r"C:\inetpub\x.dll", r"C:\x.exe").data, log=SECURITY)
    assert fired(detector, sec) == []


def test_provider_alone_is_enough(detector: Detector) -> None:
    """ForwardedEvents keeps the Sysmon provider but changes the channel."""
    load = image_load(r"C:\Users\Public\evil.dll")
    fwd = ev(7, load.data, channel="ForwardedEvents")
    assert fired(detector, fwd) == [LOAD]
