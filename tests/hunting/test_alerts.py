"""The alert record: true record ids, file position, archive member, ISO time, rule metadata, evidence."""

from __future__ import annotations

import zipfile
from pathlib import Path

from iisdetect.engine.ruleset import load_ruleset
from iisdetect.hunting.alerts import Alert, alert_record, attack_ids, event_kind, evidence_fields, split_source
from iisdetect.hunting.run import HuntOptions, hunt
from iisdetect.model.event import Event
from tests.commands.test_hunt import evtx_json_line
from tests.helpers import SECURITY, ev, file_create, image_load, registry_set

PS = ("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell")
IISCFG = ("Microsoft-IIS-Configuration/Operational", "Microsoft-Windows-IIS-Configuration")


def _rule():
    return next(r for r in load_ruleset("iis") if r.detection_type == "IIS_Untrusted_Module_Load")


def test_record_carries_ids_position_member_time_and_rule() -> None:
    e = image_load(r"C:\Users\Public\evil.dll")
    e.source, e.locator, e.record_id = r"C:\triage\host.zip!Logs/Sysmon.evtx", "record 7", 4711
    rec = alert_record(Alert(_rule(), e))
    assert rec["EventRecordID"] == 4711 and rec["position"] == "record 7"
    assert rec["source_file"] == r"C:\triage\host.zip" and rec["member"] == "Logs/Sysmon.evtx"
    assert rec["time"] == "2024-05-02T10:15:30.123Z" and rec["event_time"] == "2024-05-02 10:15:30"
    assert rec["status"] == "experimental" and "T1505.004" in rec["attack"] and "attack.t1505.004" in rec["tags"]
    assert rec["rule_level"] == rec["level"] == _rule().level
    assert rec["event"]["System"]["EventRecordID"] == 4711 and rec["event"]["EventData"] == e.data
    assert split_source("plain.evtx") == ("plain.evtx", None)


def test_evidence_per_kind() -> None:
    cfg = ev(
        29,
        {
            "ConfigPath": "MACHINE/WEBROOT/APPHOST",
            "PhysicalPath": "",
            "Configuration": "/system.webServer/globalModules/add[@name='Evil']/@image",
            "EditOperationType": "1",
            "OldValue": "",
            "NewValue": r"C:\x\evil.dll",
        },
        log=IISCFG,
    )
    e = evidence_fields(cfg)
    assert e["kind"] == "iis_config" and e["config_path"] == "MACHINE/WEBROOT/APPHOST"
    assert e["element"] == "/system.webServer/globalModules/add[@name='Evil']" and e["attribute"] == "image"
    assert e["old_value"] is None and e["new_value"] == r"C:\x\evil.dll" and e["operation"] == "1"

    text = "Import-Module WebAdministration; " + "x" * 20000
    sb = ev(
        4104,
        {"MessageNumber": "1", "MessageTotal": "3", "ScriptBlockText": text, "ScriptBlockId": "{abc}", "Path": ""},
        log=PS,
    )
    e = evidence_fields(sb)
    assert e["kind"] == "script_block" and e["script_block_text"] == text  # never cut
    assert (e["script_block_id"], e["message_number"], e["message_total"]) == ("{abc}", "1", "3")

    load = evidence_fields(image_load(r"C:\x\e.dll", Signed="false", SignatureStatus="Unavailable", Hashes="MD5=1"))
    assert (load["kind"], load["signed"], load["signature_status"], load["hashes"]) == (
        "image_load",
        "false",
        "Unavailable",
        "MD5=1",
    )

    proc = ev(
        4688,
        {
            "NewProcessName": r"C:\Windows\System32\inetsrv\appcmd.exe",
            "CommandLine": "appcmd install module",
            "ParentProcessName": r"C:\Windows\System32\cmd.exe",
            "SubjectUserName": "admin",
            "MandatoryLabel": "S-1-16-12288",
        },
        log=SECURITY,
    )
    e = evidence_fields(proc)
    assert e["kind"] == "process_creation" and e["image"].endswith("appcmd.exe")
    assert (e["parent_image"], e["user"], e["integrity_level"]) == (
        r"C:\Windows\System32\cmd.exe",
        "admin",
        "S-1-16-12288",
    )

    w = evidence_fields(file_create(r"C:\Windows\System32\inetsrv\evil.dll", r"C:\drop.exe"))
    assert (w["kind"], w["target_filename"], w["image"]) == (
        "file_write",
        r"C:\Windows\System32\inetsrv\evil.dll",
        r"C:\drop.exe",
    )
    r = evidence_fields(registry_set(r"HKLM\x\Filter DLLs", r"C:\f.dll"))
    assert (r["kind"], r["target_object"], r["details"]) == ("registry", r"HKLM\x\Filter DLLs", r"C:\f.dll")
    assert event_kind(ev(4624, {}, log=SECURITY)) == "other"


def test_attack_ids() -> None:
    assert attack_ids(("attack.persistence", "attack.t1505.004", "attack.T1505", "attack.t1505.004")) == [
        "T1505.004",
        "T1505",
    ]


def test_alert_inside_a_zip_names_the_member(tmp_path: Path) -> None:
    zpath = tmp_path / "triage.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("host1/sysmon.jsonl", evtx_json_line(image_load(r"C:\Users\Public\evil.dll"), 99) + b"\n")
    res = hunt(HuntOptions(paths=[str(zpath)], correlate_window=None))
    rec = alert_record(res.alerts[0])
    assert rec["source_file"] == str(zpath) and rec["member"] == "host1/sysmon.jsonl" and rec["EventRecordID"] == 99


def test_evtx_record_id_is_the_system_value_not_the_header_number(corpus: Path, tmp_path: Path) -> None:
    """Event Viewer re-numbers record headers on export; the System EventRecordID is the real id."""
    path = next((corpus / "EVTX-to-MITRE-Attack").rglob("ID4624-Mimikatz Pass the hash.evtx"))
    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: any 4624\nid: 5d0c5f36-2f65-4c1a-9d52-1f0a3b3d6c01\nstatus: test\nlevel: low\n"
        "detection_type: Logon\nlogsource:\n  product: windows\n  service: security\n"
        "detection:\n  sel:\n    EventID: 4624\n  condition: sel\n"
    )
    res = hunt(HuntOptions(paths=[str(path)], ruleset=None, extra_rules=[str(rule)], correlate_window=None))
    first = alert_record(res.alerts[0])
    assert first["position"] == "record 3"  # the header number in this exported file
    assert first["EventRecordID"] == 67101  # what Event Viewer shows (System/EventRecordID)


def test_event_without_time_has_null_iso_time() -> None:
    e = Event("C", "P", 7, "H", "", None, None, {})
    rec = alert_record(Alert(_rule(), e))
    assert rec["time"] is None and rec["EventRecordID"] is None
