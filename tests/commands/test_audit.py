"""``iisdetect audit`` through the CLI: the four output formats, --min-level, errors, hostile text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from iisdetect.cli import main
from tests.audit.conftest import APPHOST, config

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "triage" / "web01-velociraptor.tar.gz")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_matches_the_alert_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, EXAMPLE, "--format", "json", "--min-level", "medium")
    assert code == 0
    doc = json.loads(out)
    alerts = doc["alerts"]
    assert len(alerts) == 13  # 8 high + 5 medium (see tests/audit/test_run.py EXPECTED)
    a = next(x for x in alerts if x["detection_type"] == "IIS_Audit_Managed_Not_Microsoft")
    assert a["rule_id"] == "audit.managed_untrusted" and a["level"] == "medium"
    assert a["location"] == "Default Web Site/portal"
    assert a["file_path"] == "C:\\inetpub\\wwwroot\\portal\\web.config"
    assert a["record"] == "/configuration/system.webServer/modules/add[@name='PortalCache']"
    assert a["Computer"] == "web01-velociraptor"
    assert doc["summary"]["records_read"] == 7
    assert "below --min-level medium not shown" in err
    assert "alerts: 72" in err


def test_ndjson_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, EXAMPLE, "--format", "ndjson", "--min-level", "high")
    lines = [json.loads(x) for x in out.splitlines()]
    assert {x["type"] for x in lines} == {"alert"} and len(lines) == 8
    assert {x["level"] for x in lines} == {"high"}
    _, out, _ = run(capsys, EXAMPLE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 72
    assert {r["detection_type"] for r in rows} >= {"IIS_Audit_Component", "IIS_Audit_History_Removed"}
    dll = next(r for r in rows if r["detection_type"] == "IIS_Audit_DLL_Triage" and r["level"] == "medium")
    assert dll["loaded_dll"] == "C:\\Windows\\System32\\inetsrv\\iiscmphlp.dll"


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, EXAMPLE, "--min-level", "high")
    assert code == 0
    assert out.count("IIS_Audit_History_Added") == 4
    assert "name 'DefaultDocumentModule_Atomic' looks like the known module 'DefaultDocumentModule'" in out


def test_hostile_names_stay_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A control character cannot even be written in XML 1.0 (the file is refused and counted); a formula can."""
    f = tmp_path / "WEB01" / APPHOST
    f.parent.mkdir(parents=True)
    f.write_text(config(global_modules='<add name="X&#27;[2J" image="C:\\x.dll" />'))
    code, out, err = run(capsys, str(tmp_path / "WEB01"))
    assert code == 0 and "\x1b" not in out and "configuration file refused" in err and "1 skipped" in err
    f.write_text(config(global_modules='<add name="=HYPERLINK(1)" image="=HYPERLINK(&quot;C:\\Users\\a.dll&quot;)" />'))
    _, out, _ = run(capsys, str(tmp_path / "WEB01"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(r["loaded_dll"].startswith("'=") for r in rows)


def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "missing"))
    assert code == 2 and err.strip() == f"iisdetect: error: no such file or folder: {tmp_path / 'missing'}"
    code, _, err = run(capsys, str(tmp_path), "--dll", str(tmp_path / "nope.dll"))
    assert code == 2 and err.count("\n") == 1 and "--dll: no such file" in err
    code, out, err = run(capsys, str(tmp_path))
    assert code == 0 and out.strip() == "No findings." and "files: 0" in err
