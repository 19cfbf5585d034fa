"""Acceptance: Atomic Red Team T1505.004 tests 1 and 2 in every telemetry shape, and the real-data corpus.

ART (redcanaryco/atomic-red-team atomics/T1505.004/T1505.004.yaml):
  1. command_prompt: %windir%\\system32\\inetsrv\\appcmd.exe install module /name:#{module_name} /image:#{dll_path}
  2. powershell:     New-WebGlobalModule -Name #{module_name} -Image #{dll_path}
with module_name DefaultDocumentModule_Atomic and dll_path %windir%\\system32\\inetsrv\\defdoc.dll. The events
below are what Sysmon, Security 4688, PowerShell 4104 and IIS-Configuration record for them (cmd.exe expands
%windir% before appcmd starts; the Invoke-AtomicTest wrapper is powershell.exe).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.rulesets.iis_events import (
    APPCMD,
    APPHOST,
    CMD,
    POWERSHELL_EXE,
    file_create,
    fired,
    image_load,
    module_add_burst,
    ps_4104,
    security_4688,
    sysmon_process,
)

NAME = "DefaultDocumentModule_Atomic"
DLL_UNEXPANDED = r"%windir%\system32\inetsrv\defdoc.dll"
DLL = r"C:\Windows\system32\inetsrv\defdoc.dll"
ART1_CMD = rf'"C:\Windows\system32\cmd.exe" /c "{DLL_UNEXPANDED[:-10]}appcmd.exe install module /name:{NAME} /image:{DLL_UNEXPANDED}"'  # noqa: E501
ART1_APPCMD = rf"{APPCMD}  install module /name:{NAME} /image:{DLL}"
ART2_PS = rf'"powershell.exe" & {{New-WebGlobalModule -Name {NAME} -Image {DLL_UNEXPANDED}}}'
ART2_BLOCK = rf"& {{New-WebGlobalModule -Name {NAME} -Image {DLL_UNEXPANDED}}}"
CMDR, SCRIPT, ADDED, CFGW = (
    "iis_module_registration_command",
    "iis_module_registration_script",
    "iis_config_module_added",
    "iis_config_file_write",
)
MASQ = "iis_module_masquerade_config"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_ruleset("iis"))


@pytest.mark.parametrize(
    ("shape", "event", "expected"),
    [
        ("art1 sysmon1 cmd.exe", sysmon_process(CMD, ART1_CMD, parent=POWERSHELL_EXE), [CMDR]),
        ("art1 sysmon1 appcmd.exe", sysmon_process(APPCMD, ART1_APPCMD, parent=CMD, parent_cmd=ART1_CMD), [CMDR]),
        ("art1 4688 cmd.exe", security_4688(CMD, ART1_CMD, parent=POWERSHELL_EXE), [CMDR]),
        ("art1 4688 appcmd.exe", security_4688(APPCMD, ART1_APPCMD, parent=CMD), [CMDR]),
        ("art1 sysmon11 config write", file_create(APPHOST, APPCMD), [CFGW]),
        ("art2 sysmon1 powershell", sysmon_process(POWERSHELL_EXE, ART2_PS, parent=POWERSHELL_EXE), [CMDR]),
        ("art2 4688 powershell", security_4688(POWERSHELL_EXE, ART2_PS, parent=POWERSHELL_EXE), [CMDR]),
        ("art2 4104", ps_4104(ART2_BLOCK), [SCRIPT]),
        ("art2 4104 inner block", ps_4104(ART2_BLOCK[2:]), [SCRIPT]),
        ("art2 sysmon11 config write", file_create(APPHOST, POWERSHELL_EXE), [CFGW]),
        # expected silence (detections.md section 7): defdoc.dll is Microsoft-signed in inetsrv
        ("art w3wp loads defdoc.dll", image_load(DLL), []),
        (
            "art cfghistory snapshot",
            file_create(
                r"C:\inetpub\history\CFGHISTORY_0000000009\applicationHost.config", r"C:\Windows\system32\svchost.exe"
            ),
            [],
        ),  # fmt: skip
        ("art1 cleanup", sysmon_process(APPCMD, rf"{APPCMD} uninstall module {NAME}"), []),
        ("art2 cleanup 4104", ps_4104(f"Remove-WebGlobalModule -Name {NAME}"), []),
    ],
)
def test_atomic_red_team(detector: Detector, shape: str, event, expected: list[str]) -> None:
    assert fired(detector, event) == expected, shape


@pytest.mark.parametrize("modules", [True, False], ids=["art1 appcmd (globalModules+modules)", "art2 cmdlet"])
def test_atomic_red_team_iis_configuration(detector: Detector, modules: bool) -> None:
    """EID 29: the element-only record stays silent, each attribute with a value fires the add rule, and
    the built-in name with a suffix (a look-alike of DefaultDocumentModule, the baseline) the masquerade rule."""
    for quote in ("'", '"'):  # Windows writes double quotes; older tools and docs single: both read alike
        burst = module_add_burst(NAME, DLL_UNEXPANDED, modules=modules, quote=quote)
        results = [fired(detector, ev) for ev in burst]
        expected = [[], [ADDED, MASQ], [ADDED, MASQ]] + ([[], [ADDED, MASQ]] if modules else [])
        assert results == expected, quote


# --------------------------------------------------------------------------------------- corpus
EXPECTED_FILE = "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
#: the corpus's one System32-root DLL write by a non-installer: certutil decoding an AppLocker-bypass DLL
REPORTED_FILE = "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx"


@pytest.mark.corpus
def test_corpus_default_ruleset_raises_exactly_one_alert(corpus: Path) -> None:
    """Over all of ../shared/corpus: iis raises one alert (the appcmd dontLog event) and one informational
    report (certutil writing a DLL into System32, not an IIS component until something registers it); seed
    raises none."""
    iis = Detector(load_ruleset("iis"))
    seed = Detector(load_ruleset("seed"))
    stats = RunStats()
    hits: list[tuple[str, str, str, int, str]] = []
    reports: list[tuple[str, str, str, str, str]] = []
    seed_hits: Counter[str] = Counter()
    n = 0
    for ev in iter_events([str(corpus)], stats):
        n += 1
        for rule in iis.match(ev):
            if rule.level == "informational":
                d = ev.data
                where = (Path(rule.path).stem, ev.source, ev.locator)
                reports.append((*where, d.get("Image", ""), d.get("TargetFilename", "")))
                continue
            hits.append((Path(rule.path).stem, ev.source, ev.locator, ev.event_id, ev.data.get("CommandLine", "")))
        for _rule in seed.match(ev):
            seed_hits[ev.source] += 1
    assert n > 180_000, f"corpus looks incomplete: {n} events"
    assert len(hits) == 1, hits
    stem, source, locator, event_id, cmdline = hits[0]
    assert stem == "iis_logging_tamper_command"
    assert source.replace("\\", "/").endswith(EXPECTED_FILE)
    assert locator == "record 505"
    assert event_id == 1
    assert "/dontLog:true" in cmdline and cmdline.lower().startswith('"c:\\windows\\system32\\cmd.exe"')
    assert dict(seed_hits) == {}
    assert len(reports) == 1, reports
    stem, source, locator, image, target = reports[0]
    assert stem == "iis_system_dir_dll_write" and source.replace("\\", "/").endswith(REPORTED_FILE)
    assert locator == "record 6" and image.lower().endswith("\\certutil.exe")
    assert target.lower() == "c:\\windows\\system32\\allthethings.dll"
