"""Every machine-readable output validates against its JSON Schema in docs/schemas, whatever happened.

The runs cover alerts with incidents, alerts without correlation, suppressed alerts, no alert at
all and zero records read: the JSON document keeps the same top-level keys in all of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main
from tests.commands.test_hunt import evtx_json_line
from tests.helpers import ev, file_create, image_load, registry_set
from tests.report.schema_util import errors, validator

TOP_KEYS = ["format", "format_version", "alerts", "incidents", "suppressed", "summary"]


def write_log(path: Path, events) -> Path:
    path.write_bytes(b"\n".join(evtx_json_line(e, i + 1) for i, e in enumerate(events)) + b"\n")
    return path


@pytest.fixture
def busy(tmp_path: Path) -> Path:
    return write_log(
        tmp_path / "busy.jsonl",
        [
            image_load(r"C:\Users\Public\evil.dll", Signed="false", SignatureStatus="Unavailable"),
            file_create(r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\drop.exe"),
            registry_set(r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs", r"C:\x\f.dll"),
            ev(
                29,
                {
                    "PhysicalPath": "",
                    "ConfigPath": "MACHINE/WEBROOT/APPHOST",
                    "EffectiveLocationPath": "",
                    "Configuration": "/system.webServer/globalModules/add[@name='Evil']/@image",
                    "EditOperationType": "1",
                    "OldValue": "",
                    "NewValue": r"C:\Users\Public\evil.dll",
                },
                log=("Microsoft-IIS-Configuration/Operational", "Microsoft-Windows-IIS-Configuration"),
            ),
        ],
    )


@pytest.fixture
def quiet(tmp_path: Path) -> Path:
    return write_log(tmp_path / "quiet.jsonl", [image_load(r"C:\Windows\System32\inetsrv\defdoc.dll")])


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["hunt", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_document_valid_and_keys_stable_in_every_outcome(capsys, busy: Path, quiet: Path, tmp_path: Path) -> None:
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    (empty_dir / "README.md").write_text("not a log\n")
    outcomes = {
        "incidents": run_json(capsys, str(busy), "--ruleset", "all"),
        "no-correlate": run_json(capsys, str(busy), "--no-correlate"),
        "no alerts": run_json(capsys, str(quiet)),
        "zero records": run_json(capsys, str(empty_dir)),
    }
    for name, (_code, doc) in outcomes.items():
        assert list(doc) == TOP_KEYS, name
        assert errors("hunt", doc) == [], name
    assert outcomes["incidents"][1]["incidents"] and all(a["incident"] for a in outcomes["incidents"][1]["alerts"])
    assert outcomes["no alerts"][1]["alerts"] == [] and outcomes["no alerts"][0] == 0
    zero_code, zero = outcomes["zero records"]
    assert zero_code == 3 and zero["summary"]["no_records"] is True and zero["summary"]["records_read"] == 0


def test_schema_rejects_a_changed_record(capsys, busy: Path) -> None:
    """The schemas are strict: an undocumented key or a wrong type is an error (so they can fail)."""
    _, doc = run_json(capsys, str(busy), "--no-correlate")
    alert = dict(doc["alerts"][0])
    assert errors("alert", alert) == []
    assert errors("alert", {**alert, "surprise": 1})
    assert errors("alert", {**alert, "EventRecordID": "1"})
    assert errors("alert", {**alert, "time": "2024-05-02 10:15:30"})
    assert errors("hunt", {**doc, "extra": []}) and errors("hunt", {k: v for k, v in doc.items() if k != "suppressed"})


def test_ndjson_lines_valid_collected_and_streamed(capsys, busy: Path, tmp_path: Path) -> None:
    tuning = tmp_path / "t.yaml"
    tuning.write_text("entries:\n  - name: drop-exe\n    image: 'C:\\Users\\Public\\drop.exe'\n")
    for extra in ([], ["--no-correlate"], ["--tuning", str(tuning), "--show-suppressed"]):
        code = main(["hunt", str(busy), "--format", "ndjson", *extra])
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert code == 0 and lines[-1]["type"] == "summary"
        for line in lines:
            assert errors("ndjson-record", line) == [], (extra, line["type"])
    assert sum(x["type"] == "suppressed" for x in lines) == 1  # the last run: the drop.exe write
    assert next(x for x in lines if x["type"] == "suppressed")["suppressed_by"] == "drop-exe"


def test_timesketch_lines_have_what_the_importer_needs(capsys, busy: Path) -> None:
    for extra in ([], ["--no-correlate"]):
        assert main(["hunt", str(busy), "--format", "timesketch", *extra]) == 0
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert lines
        for line in lines:
            assert errors("timesketch", line) == []
            assert line["datetime"].startswith("2024-05-02T10:15:30.123") and line["timestamp"] == 1714644930123456
    load = next(x for x in lines if x["EventID"] == "7")
    assert load["evidence_signature_status"] == "Unavailable" and load["data_ImageLoaded"].endswith("evil.dll")


def test_navigator_layer_valid_and_scored_by_alert_count(capsys, busy: Path) -> None:
    assert main(["hunt", str(busy), "--format", "navigator"]) == 0
    layer = json.loads(capsys.readouterr().out)
    assert errors("navigator-layer-4.5", layer) == []
    assert layer["versions"]["layer"] == "4.5" and layer["domain"] == "enterprise-attack"
    main(["hunt", str(busy), "--format", "json", "--no-correlate"])
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    expected = sum(1 for a in alerts if "T1505.004" in a["attack"])
    t = next(x for x in layer["techniques"] if x["techniqueID"] == "T1505.004")
    assert t["score"] == expected > 0
    assert next(x for x in layer["techniques"] if x["techniqueID"] == "T1505")["showSubtechniques"] is True
    assert layer["gradient"]["maxValue"] > layer["gradient"]["minValue"]


def test_navigator_schema_rejects_what_the_navigator_would() -> None:
    v = validator("navigator-layer-4.5")
    good = {"name": "x", "domain": "enterprise-attack", "versions": {"navigator": "5.2.0", "layer": "4.5"}}
    assert v.is_valid(good)
    assert not v.is_valid({**good, "versions": {"navigator": "5.2.0", "layer": "4.4"}})
    assert not v.is_valid({**good, "techniques": [{"techniqueID": "1505"}]})
