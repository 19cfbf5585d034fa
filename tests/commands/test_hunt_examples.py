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
    # ignored: tuning, README, regenerate.sh and examples/triage's build.py and README, plus 3 non-event
    # members of the audit package: its .tar.gz is opened like every container (readers/sources.py), and
    # its 7 IIS .config files start with <?xml (read as XML, 0 events)
    assert doc["summary"]["formats"] == {"evtx-json": 1, "xml": 8, "ecs": 1} and doc["summary"]["files_ignored"] == 8
    # 283: EID 29 bursts start with their element record and end with an EID 50 commit (simulate/iis_config.py)
    assert doc["summary"]["records_read"] == 283 and doc["summary"]["records_skipped"] == 0
    loads = [a for a in doc["alerts"] if a["detection_type"] == "IIS_Non_Standard_Module_Load"]
    # the seed's documented false positive: Defender's signed DLLs under ProgramData
    assert any(a["loaded_dll"].endswith("MpOAV.dll") for a in loads)


def test_default_ruleset_with_example_tuning(capsys) -> None:
    doc = hunt_json(capsys, "--tuning", TUNING, "--show-suppressed")
    summary = doc["summary"]
    # 74 alerts, 12 informational reports of known modules (URL Rewrite, ARR, the APM agents: the module
    # baseline, docs/rules.md) and 3 of Web Deploy publishing (IIS_Known_Deployment), which the example
    # tuning therefore no longer has to suppress; it still suppresses the developer box's test module
    types = summary["alerts_by_type"]
    assert sum(types.values()) == 89 and types["IIS_Known_Module"] == 12 and types["IIS_Known_Deployment"] == 3
    assert summary["suppressed_by_entry"] == {"developer-builds": 1} and len(doc["suppressed"]) == 1
    assert "apm-agents-in-w3wp" not in summary["suppressed_by_entry"]
    incidents = doc["incidents"]
    assert len(incidents) == 15 and len([i for i in incidents if i["level"] != "informational"]) == 7
    assert sum(i["alert_count"] for i in incidents) == 89
    rgdoor = next(i for i in incidents if i["module"] == "iiscmphlp.dll")
    members = [a for a in doc["alerts"] if a["incident"] == rgdoor["incident"]]
    assert len(members) == rgdoor["alert_count"]
    types = {a["detection_type"] for a in members}
    assert {"IIS_Dir_DLL_Write", "IIS_Module_Registration_Command", "IIS_Untrusted_Module_Load"} <= types
    assert rgdoor["level"] == "high"  # registration + load of the same module: raised one level
    # nothing benign is left above informational: APM agents and URL Rewrite are reported, not alerted
    kept = [a for a in doc["alerts"] if a["level"] != "informational"]
    assert not any("dtagent.dll" in (a["loaded_dll"] or "") for a in kept)
    assert any("dtagent.dll" in (a["loaded_dll"] or "") for a in doc["alerts"])
    assert all(s["suppressed_by"] for s in doc["suppressed"])


def test_files_line_adds_up_on_the_examples(capsys) -> None:
    """The ``files:`` line and the JSON summary carry the same figures, and each adds up.

    By hand from examples/: 9 files on disk. Read: mail01-owaauth-filter.xml (xml), web01-*.evtx.jsonl
    (evtx-json), web04-*.ecs.jsonl (ecs). Ignored: README.md, regenerate.sh, tuning.example.yaml,
    triage/README.md, triage/build.py. One container, triage/web01-velociraptor.tar.gz, holding 10
    members (tar tzf): 7 IIS .config files starting with <?xml (xml) and 3 DLLs starting with MZ (ignored).
    So 3 + 7 = 10 read (xml 1 + 7 = 8), 5 + 3 = 8 ignored, and 7 + 3 = 10 of those 18 from the container.
    """
    for jobs in ("1", "2"):  # the workers' stats are merged into the same figures
        assert main(["hunt", EXAMPLES, "--format", "json", "--jobs", jobs]) == 0
        out, err = capsys.readouterr()
        s = json.loads(out)["summary"]
        assert (s["files"], s["files_ignored"], s["files_failed"]) == (10, 8, 0)
        assert s["formats"] == {"xml": 8, "evtx-json": 1, "ecs": 1} and sum(s["formats"].values()) == s["files"]
        assert (s["containers"], s["files_in_containers"]) == (1, 10)
        line = " ".join(err.split()).split(" records:")[0]  # the console wraps long lines
        assert line.endswith(
            "files: 10 read (ecs 1, evtx-json 1, xml 8), 8 ignored (not event data); "
            "10 of these 18 came from 1 container"
        )
