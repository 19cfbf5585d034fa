# ruff: noqa: E501
"""Correlation: per-host incidents, registration + load/write join with raised level, EID 29 burst dedupe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.hunting.alerts import Alert
from iisdetect.hunting.incidents import correlate, is_duplicate, module_key, module_keys
from iisdetect.model.event import Event
from tests.rulesets.iis_events import (
    APPCMD,
    APPHOST,
    CMD,
    POWERSHELL_EXE,
    app_2282,
    file_create,
    image_load,
    module_add_burst,
    ps_4104,
    security_4688,
    sysmon_process,
)

NAME = "DefaultDocumentModule_Atomic"
EVIL = r"C:\Windows\System32\inetsrv\iisbackdoor.dll"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_ruleset("iis"))


def at(ev: Event, ts: str, host: str | None = None) -> Event:
    ev.time_created = ts
    if host:
        ev.computer = host
    return ev


def alerts_for(detector: Detector, events: list[Event]) -> list[Alert]:
    out = [Alert(r, ev) for ev in sorted(events, key=lambda e: e.time_created) for r in detector.match(ev)]
    assert len(out) >= 1
    return out


def install(ts: str, dll: str = EVIL, name: str = "Backdoor", host: str | None = None) -> Event:
    return at(sysmon_process(APPCMD, rf"{APPCMD} install module /name:{name} /image:{dll}"), ts, host)


def load(ts: str, dll: str = EVIL, host: str | None = None) -> Event:
    return at(image_load(dll, signed=False), ts, host)


def test_art1_chain_is_one_incident_with_deduplicated_burst(detector: Detector) -> None:
    t = "2026-11-20T10:15:30.{:06d}Z"
    cmdline = rf'"C:\Windows\system32\cmd.exe" /c "%windir%\system32\inetsrv\appcmd.exe install module /name:{NAME} /image:%windir%\system32\inetsrv\defdoc.dll"'
    events = [
        at(security_4688(CMD, cmdline, parent=POWERSHELL_EXE), t.format(1)),
        at(sysmon_process(CMD, cmdline, parent=POWERSHELL_EXE), t.format(2)),
        at(
            sysmon_process(
                APPCMD, rf"{APPCMD}  install module /name:{NAME} /image:C:\Windows\system32\inetsrv\defdoc.dll"
            ),
            t.format(3),
        ),
        *(
            at(e, t.format(10 + i))
            for i, e in enumerate(module_add_burst(NAME, r"%windir%\system32\inetsrv\defdoc.dll"))
        ),
        at(file_create(APPHOST, APPCMD), t.format(40)),
    ]
    alerts = alerts_for(detector, events)
    # 3 commands, 3 EID 29 attribute records (module added, and masquerade: a built-in name with a suffix),
    # 1 config write
    assert len(alerts) == 10
    (inc,) = correlate(alerts)
    assert inc.alerts == alerts and all(a.incident == inc.id for a in alerts)
    assert inc.module in {"defdoc.dll", NAME.lower()}
    assert inc.duplicates == 4
    eid29 = [a for a in alerts if a.event.event_id == 29 and a.rule.detection_type == "IIS_Config_Module_Added"]
    assert [is_duplicate(a) for a in eid29] == [False, True, True]
    assert any("+2 duplicate" in n for n in eid29[0].notes)
    assert "4 duplicate EID 29 events" in inc.summary
    # a registration alone (defdoc.dll is Microsoft-signed: no load alert) is not a confirmed install; the
    # masquerade rule (high) sets the incident's level
    assert not inc.joined and inc.level == "high"
    assert all(a.level == a.rule.level for a in alerts)


def test_registration_then_load_of_same_module_raises_level(detector: Detector) -> None:
    alerts = alerts_for(detector, [install("2026-11-20T10:00:00.000000Z"), load("2026-11-20T10:45:00.000000Z")])
    (inc,) = correlate(alerts)
    assert inc.joined and inc.module == "iisbackdoor.dll"
    assert [a.level for a in alerts] == ["high", "high"]  # both medium -> high
    assert inc.level == "high"
    assert all(any("registration and load/write" in n for n in a.notes) for a in alerts)
    assert "confirmed install" in inc.summary


def test_alias_keys_raise_the_whole_change(detector: Detector) -> None:
    """The EID 29 @name record names the module, the @image record ties it to the DLL that w3wp loads."""
    burst = module_add_burst("Backdoor", EVIL, time="2026-11-20T10:00:00.000000Z", modules=False)
    alerts = alerts_for(detector, [*burst, load("2026-11-20T10:05:00.000000Z")])
    (inc,) = correlate(alerts)
    assert inc.joined and inc.module == "iisbackdoor.dll"
    assert [a.level for a in alerts] == ["high", "high", "high"]
    assert [is_duplicate(a) for a in alerts] == [False, True, False]


def test_webshell_registration_plus_load_reaches_critical(detector: Detector) -> None:
    ws = at(
        sysmon_process(
            APPCMD,
            rf"{APPCMD} install module /name:Backdoor /image:{EVIL}",
            parent=r"c:\windows\system32\inetsrv\w3wp.exe",
        ),
        "2026-11-20T10:00:00.000000Z",
    )
    alerts = alerts_for(detector, [ws, load("2026-11-20T10:01:00.000000Z")])
    (inc,) = correlate(alerts)
    assert inc.level == "critical"


def test_outside_window_stays_apart(detector: Detector) -> None:
    alerts = alerts_for(detector, [install("2026-11-20T10:00:00.000000Z"), load("2026-11-20T11:00:01.000000Z")])
    incs = correlate(alerts)
    assert len(incs) == 2 and not any(i.joined for i in incs)
    assert [a.level for a in alerts] == ["medium", "medium"]


def test_window_is_configurable(detector: Detector) -> None:
    events = [install("2026-11-20T10:00:00.000000Z"), load("2026-11-20T10:06:00.000000Z")]
    assert len(correlate(alerts_for(detector, events), window=timedelta(minutes=5))) == 2
    events = [install("2026-11-20T10:00:00.000000Z"), load("2026-11-20T12:00:00.000000Z")]
    assert len(correlate(alerts_for(detector, events), window=timedelta(hours=3))) == 1


def test_other_host_or_other_module_stays_apart(detector: Detector) -> None:
    events = [
        install("2026-11-20T10:00:00.000000Z"),
        load("2026-11-20T10:01:00.000000Z", host="WEB02.corp.local"),
        load("2026-11-20T10:02:00.000000Z", dll=r"C:\Windows\System32\inetsrv\other.dll"),
    ]
    alerts = alerts_for(detector, events)
    incs = correlate(alerts)
    assert len(incs) == 3
    assert {i.host for i in incs} == {"WEB01.corp.local", "WEB02.corp.local"}
    assert not any(i.joined for i in incs)


def test_direct_config_edit_joins_a_load(detector: Detector) -> None:
    """notepad edits applicationHost.config (no EID 29), then w3wp loads an unsigned DLL."""
    edit = at(file_create(APPHOST, r"C:\Windows\System32\notepad.exe"), "2026-11-20T10:00:00.000000Z")
    alerts = alerts_for(detector, [edit, load("2026-11-20T10:20:00.000000Z")])
    (inc,) = correlate(alerts)
    assert inc.joined and inc.module == "iisbackdoor.dll"
    assert [a.level for a in alerts] == ["high", "high"]


def test_unkeyed_alerts_chain_per_host(detector: Detector) -> None:
    events = [
        at(file_create(r"C:\inetpub\wwwroot\web.config", r"C:\Tools\deploy.exe"), "2026-11-20T10:00:00.000000Z"),
        at(file_create(r"C:\inetpub\wwwroot\web.config", r"C:\Tools\deploy.exe"), "2026-11-20T10:50:00.000000Z"),
        at(file_create(r"C:\inetpub\wwwroot\web.config", r"C:\Tools\deploy.exe"), "2026-11-20T12:00:00.000000Z"),
    ]
    incs = correlate(alerts_for(detector, events))
    assert [len(i.alerts) for i in incs] == [2, 1]
    assert all(i.module is None for i in incs)


def test_two_changes_of_one_module_are_not_merged_as_duplicates(detector: Detector) -> None:
    first = module_add_burst("Backdoor", EVIL, time="2026-11-20T10:00:00.000000Z", modules=False)
    second = module_add_burst("Backdoor", EVIL, time="2026-11-20T10:30:00.000000Z", modules=False)
    alerts = alerts_for(detector, first + second)
    (inc,) = correlate(alerts)
    assert len(alerts) == 4 and inc.duplicates == 2
    assert [is_duplicate(a) for a in alerts] == [False, True, False, True]


def test_every_alert_in_exactly_one_incident_and_ids_ordered(detector: Detector) -> None:
    events = [
        load("2026-11-20T09:00:00.000000Z", host="WEB02.corp.local"),
        install("2026-11-20T10:00:00.000000Z"),
        load("2026-11-20T10:30:00.000000Z"),
        at(app_2282(r"C:\Windows\System32\inetsrv\broken.dll"), "2026-11-20T13:00:00.000000Z"),
    ]
    alerts = alerts_for(detector, events)
    incs = correlate(alerts)
    seen = [a for i in incs for a in i.alerts]
    assert sorted(map(id, seen)) == sorted(map(id, alerts))
    assert [i.id for i in incs] == [f"INC-{n:04d}" for n in range(1, len(incs) + 1)]
    assert [i.first for i in incs] == sorted(i.first for i in incs)
    assert all(i.first <= i.last for i in incs)
    assert correlate([]) == []


@pytest.mark.parametrize(
    ("event", "keys"),
    [
        (
            sysmon_process(APPCMD, rf"{APPCMD} install module /name:Backdoor /image:%windir%\system32\inetsrv\B.dll"),
            ["b.dll", "backdoor"],
        ),
        (
            sysmon_process(APPCMD, rf'{APPCMD} install module -name:"Backdoor" -image:"c:\x y\b.dll"'),
            ["b.dll", "backdoor"],
        ),
        (sysmon_process(r"C:\Tools\gacutil.exe", r"gacutil /i C:\Users\Public\Evil.Module.dll"), ["evil.module.dll"]),
        (
            ps_4104(rf"New-WebGlobalModule -Name {NAME} -Image %windir%\system32\inetsrv\defdoc.dll"),
            ["defdoc.dll", NAME.lower()],
        ),
        (module_add_burst(NAME, "x")[1], [NAME.lower()]),
        (module_add_burst(NAME, r"%windir%\system32\inetsrv\defdoc.dll")[2], ["defdoc.dll", NAME.lower()]),
        (image_load(EVIL, signed=False), ["iisbackdoor.dll"]),
        (file_create(r"C:\inetpub\wwwroot\bin\Evil.dll", r"C:\Windows\System32\cmd.exe"), ["evil.dll"]),
        (app_2282(r"C:\Windows\System32\inetsrv\broken.dll"), ["broken.dll"]),
        (file_create(APPHOST, r"C:\Windows\System32\notepad.exe"), []),
        (ps_4104("Set-WebConfigurationProperty -Filter system.webServer/httpLogging -Name dontLog -Value $true"), []),
    ],
)
def test_module_keys(detector: Detector, event: Event, keys: list[str]) -> None:
    alerts = [Alert(r, event) for r in detector.match(event)]
    assert alerts  # the look-alike ART name also fires the masquerade rule: same event, same keys
    for alert in alerts:
        assert module_keys(alert) == keys
        assert module_key(alert) == (keys[0] if keys else None)


NEW_RULE = """
title: Test-only registration rule
id: 6f2d9a1e-0000-4000-8000-000000000001
status: test
logsource: {product: windows, category: process_creation}
detection:
  selection: {CommandLine|contains: 'register-my-module'}
  condition: selection
level: low
detection_type: Test_New_Registration
correlation_role: registration
"""


def test_new_rule_file_correlates_without_python_edits(tmp_path, detector: Detector) -> None:
    """A rule added as a file (role in its YAML) joins with a load alert: no list in Python to update."""
    from iisdetect.engine.ruleset import load_rules

    (tmp_path / "new.yml").write_text(NEW_RULE)
    report = load_rules(None, [str(tmp_path / "new.yml")])
    assert not report.warnings and report.rules[0].role == "registration"
    new = Detector(report.rules)
    reg = at(sysmon_process(CMD, r"cmd /c register-my-module /name:Backdoor /image:" + EVIL), "2026-11-20T10:00:00Z")
    alerts = [Alert(r, reg) for r in new.match(reg)]
    alerts += alerts_for(detector, [load("2026-11-20T10:01:00Z")])
    incidents = correlate(alerts, timedelta(minutes=30))
    assert len(incidents) == 1 and incidents[0].joined
    assert {a.detection_type for a in incidents[0].alerts} == {"Test_New_Registration", "IIS_Untrusted_Module_Load"}


def test_unknown_correlation_role_is_a_load_warning(tmp_path) -> None:
    from iisdetect.engine.ruleset import load_rules

    (tmp_path / "bad.yml").write_text(NEW_RULE.replace("role: registration", "role: cause"))
    report = load_rules(None, [str(tmp_path / "bad.yml")])
    assert not report.rules and "correlation_role 'cause'" in report.warnings[0]


def test_every_builtin_rule_declares_a_role() -> None:
    from iisdetect.engine.ir import ROLES

    for rule in load_ruleset("all"):
        assert rule.role in ROLES and "correlation_role" not in rule.custom, rule.path


def test_system32_root_write_is_a_report_until_the_dll_is_registered(detector: Detector) -> None:
    """Microsoft Q&A 355650's UpData -> C:\\Windows\\System32\\system.dll, written by certutil: the write alone
    stays informational (the corpus holds a certutil System32 DLL drop that is no IIS component); the same
    DLL registered within the window raises it to low and the registration to high, in one incident."""
    dll = r"C:\Windows\System32\system.dll"
    drop = at(file_create(dll, r"C:\Windows\System32\certutil.exe"), "2026-11-20T10:00:00.000000Z")
    (alone,) = alerts_for(detector, [drop])
    assert (alone.rule.detection_type, alone.level) == ("IIS_System_Dir_DLL_Write", "informational")
    (inc,) = correlate([alone])
    assert not inc.joined and alone.level == "informational" and inc.level == "informational"

    drop = at(file_create(dll, r"C:\Windows\System32\certutil.exe"), "2026-11-20T10:00:00.000000Z")
    alerts = alerts_for(detector, [drop, install("2026-11-20T10:00:41.000000Z", dll=dll, name="UpData")])
    (inc,) = correlate(alerts)
    assert inc.joined and inc.module == "system.dll"
    assert [(a.rule.detection_type, a.level) for a in alerts] == [
        ("IIS_System_Dir_DLL_Write", "low"), ("IIS_Module_Registration_Command", "high")]  # fmt: skip
    other = at(file_create(r"C:\Windows\System32\AllTheThings.dll", r"C:\Windows\System32\certutil.exe"),
               "2026-11-20T10:00:00.000000Z")  # fmt: skip
    alerts = alerts_for(detector, [other, install("2026-11-20T10:00:41.000000Z", dll=dll, name="UpData")])
    incs = correlate(alerts)
    assert not any(i.joined for i in incs)
    assert [a.level for a in alerts] == ["informational", "medium"]  # another module: nothing confirmed
