"""hunt's table ends with one guide line per alert type; its JSON names each alert's guide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.guides import guide_id

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_table_has_one_guide_line_per_alert_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hunt", str(EXAMPLES), "--no-progress", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    types = {a["detection_type"] for a in doc["alerts"]}
    assert main(["hunt", str(EXAMPLES), "--no-progress"]) == 0
    out = capsys.readouterr().out
    tail = out[out.index("Guides (docs/playbook.md") :].splitlines()[1:]
    assert len(tail) == len(types)
    for t in types:
        assert f"  {t.removeprefix('IIS_')}: {guide_id(t)}" in tail


def test_json_alerts_carry_their_guide_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hunt", str(EXAMPLES), "--no-progress", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    alerts = [a for a in doc["alerts"]]
    assert alerts and all(a["guide"] == guide_id(a["detection_type"]) and a["guide"] for a in alerts)
