"""End to end on the bundled examples, exactly as the README's first command runs them (golden counts).

The examples are simulator output (``examples/regenerate.sh``); if they are regenerated differently these
pins must be re-read, not copied: each number is what the rules should give on that data.
"""

from __future__ import annotations

import json
from pathlib import Path

from iisdetect.cli import main

EXAMPLES = str(Path(__file__).resolve().parents[2] / "examples")
TUNING = str(Path(EXAMPLES) / "tuning.example.yaml")


def hunt_json(capsys, *argv: str) -> dict:
    assert main(["hunt", EXAMPLES, "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_seed_ruleset_fires_each_of_its_three_patterns(capsys) -> None:
    doc = hunt_json(capsys, "--ruleset", "seed", "--no-correlate")
    assert doc["summary"]["alerts_by_type"] == {
        "IIS_Component_Registration": 4,
        "IIS_Dir_DLL_Write": 5,
        "IIS_Non_Standard_Module_Load": 8,
    }
    # ignored: tuning, README, regenerate.sh and examples/triage's build.py, README and audit package
    assert doc["summary"]["formats"] == {"evtx-json": 1, "xml": 1, "ecs": 1, "ignored": 6}
    assert doc["summary"]["records_read"] == 253 and doc["summary"]["records_skipped"] == 0
    loads = [a for a in doc["alerts"] if a["detection_type"] == "IIS_Non_Standard_Module_Load"]
    # the seed's documented false positive: Defender's signed DLLs under ProgramData
    assert any(a["loaded_dll"].endswith("MpOAV.dll") for a in loads)


def test_default_ruleset_with_example_tuning(capsys) -> None:
    doc = hunt_json(capsys, "--tuning", TUNING, "--show-suppressed")
    summary = doc["summary"]
    assert sum(summary["alerts_by_type"].values()) == 68
    assert sum(summary["suppressed_by_entry"].values()) == 18 == len(doc["suppressed"])
    assert summary["suppressed_by_entry"]["apm-agents-in-w3wp"] == 4
    incidents = doc["incidents"]
    assert len(incidents) == 7
    assert sum(i["alert_count"] for i in incidents) == 68
    rgdoor = next(i for i in incidents if i["module"] == "iiscmphlp.dll")
    members = [a for a in doc["alerts"] if a["incident"] == rgdoor["incident"]]
    assert len(members) == rgdoor["alert_count"]
    types = {a["detection_type"] for a in members}
    assert {"IIS_Dir_DLL_Write", "IIS_Module_Registration_Command", "IIS_Untrusted_Module_Load"} <= types
    assert rgdoor["level"] == "high"  # registration + load of the same module: raised one level
    # nothing benign is left once the example tuning applies: no APM agent or URL Rewrite alert
    kept = doc["alerts"]
    assert len(kept) == 68
    assert not any("dtagent.dll" in (a["loaded_dll"] or "") for a in kept)
    assert all(s["suppressed_by"] for s in doc["suppressed"])
