"""The check catalog and the alert adapter: audit findings carry hunt's column set plus the audit fields."""

from __future__ import annotations

from iisdetect.audit.entries import Entry
from iisdetect.audit.findings import checks, entry_info, make, max_level
from iisdetect.hunting.alerts import ALERT_COLUMNS, LEVELS
from iisdetect.report.hunt_output import alert_record


def test_catalog() -> None:
    cat = checks()
    assert all(r.level in LEVELS and r.detection_type.startswith("IIS_Audit_") for r in cat.values())
    assert len({r.detection_type for r in cat.values()}) == len(cat) == 13
    assert cat["audit.component"].level == "informational" and cat["audit.lookalike"].level == "high"


def test_alert_columns() -> None:
    e = Entry(kind="global_module", name="X", image="C:\\x.dll", resolved="C:\\x.dll", xpath="/configuration/x",
              windows_config="C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config")  # fmt: skip
    a = make(
        "audit.unknown",
        "WEB01",
        "2024-03-05T14:12:00.000000Z",
        "pkg!a.config",
        e.xpath,
        entry_info(e, "applicationHost"),
        ["why"],
    )
    rec = alert_record(a)
    assert set(ALERT_COLUMNS) <= set(rec)
    assert (rec["event_time"], rec["detection_type"], rec["level"], rec["rule_id"]) == (
        "2024-03-05 14:12:00", "IIS_Audit_Unknown_Component", "medium", "audit.unknown")  # fmt: skip
    assert (rec["file_path"], rec["loaded_dll"], rec["source"], rec["record"]) == (
        e.windows_config, "C:\\x.dll", "pkg!a.config", "/configuration/x")  # fmt: skip
    assert rec["entry_kind"] == "global_module" and rec["notes"] == ["why"] and rec["incident"] is None
    assert make("audit.unknown", "h", "", "s", "l", {}, [], level="high").level == "high"
    assert max_level(["low", "high", "medium"]) == "high" and max_level([]) == "informational"
