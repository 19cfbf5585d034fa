"""Scenario files: bundled ones load; mistakes are reported with the file name and the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from iisdetect.simulate import SCENARIO_DIR, load_scenarios
from iisdetect.simulate.schema import ScenarioError, load_file, parse_scenario

BASE = {
    "id": "x",
    "kind": "attack",
    "title": "t",
    "start": "2024-05-02T10:00:00Z",
    "processes": {"p": {"image": "C:\\Windows\\System32\\cmd.exe", "user": "CORP\\a"}},
    "steps": [
        {
            "id": "s1",
            "action": "file_create",
            "process": "p",
            "target": "C:\\Windows\\System32\\inetsrv\\x.dll",
            "malicious": True,
            "expect": {"iis": ["IIS_Dir_DLL_Write"], "seed": ["IIS_Dir_DLL_Write"]},
        }
    ],
}


def _doc(**step_changes: object) -> dict:
    doc = copy.deepcopy(BASE)
    doc["steps"][0].update(step_changes)
    return doc


def test_bundled_scenarios_load_and_cover_the_issue() -> None:
    ids = {s.id for s in load_scenarios()}
    assert len(ids) >= 19
    for required in (
        "seed_test1_list_global_modules",
        "seed_test2_write_dll_inetsrv",
        "seed_test3_read_applicationhost",
        "art_t1505_004_1_appcmd_install",
        "art_t1505_004_2_new_webglobalmodule",
        "rgdoor_native_module",
        "owaauth_isapi_filter",
        "iceapple_managed_module",
        "webshell_appcmd_add_module",
        "logging_disabled_then_module",
        "module_removed_cleanup",
    ):
        assert required in ids
    assert sum(1 for s in load_scenarios() if s.kind == "benign") >= 8


def test_minimal_document_is_valid() -> None:
    scn = parse_scenario(_doc(), "x.yaml")
    assert scn.steps[0].expect["iis"] == ("IIS_Dir_DLL_Write",)


def test_a_malicious_step_only_a_report_covers_documents_why() -> None:
    """No iis expectation is accepted only with a known_miss.iis saying why (an informational report)."""
    doc = _doc(expect={}, known_miss={"iis": "reported at informational", "seed": "no branch"})
    assert parse_scenario(doc, "x.yaml").steps[0].known_miss["iis"] == "reported at informational"
    with pytest.raises(ScenarioError, match=r"steps\[0\].expect.iis: a malicious step must expect"):
        parse_scenario(_doc(expect={}, known_miss={"seed": "no branch"}), "x.yaml")


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (_doc(action="explode"), "x.yaml: steps[0].action: unknown action 'explode'"),
        (_doc(process="nobody"), "x.yaml: steps[0].process: unknown process alias 'nobody'"),
        (_doc(expect={"iis": ["IIS_Foo"]}), "x.yaml: steps[0].expect.iis: unknown detection type(s) ['IIS_Foo']"),
        (_doc(expect={"seed": ["IIS_Dir_DLL_Write"]}), "steps[0].expect.iis: a malicious step must expect"),
        (_doc(expect={"iis": ["IIS_Dir_DLL_Write"]}), "steps[0].known_miss.seed: malicious step expects nothing"),
        (_doc(malicious=False), "steps[0].expect: a benign step expects nothing"),
        (_doc(target=None, bogus=1), "steps[0]: unknown key(s) ['bogus']"),
        (_doc(at=-5), "steps[0].at: must be a number"),
        (_doc(known_fp={"seed": ["IIS_Dir_DLL_Write"]}), "steps[0].known_fp: only benign steps"),
        (_doc(expect={"nope": []}), "steps[0].expect: unknown key(s) ['nope']"),
    ],
)
def test_errors_name_file_and_key(doc: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc, "x.yaml")
    assert fragment in str(info.value)


def test_missing_required_step_key_is_named() -> None:
    doc = _doc()
    del doc["steps"][0]["target"]
    with pytest.raises(
        ScenarioError, match=r"x.yaml: steps\[0\].target: missing \(required for action 'file_create'\)"
    ):
        parse_scenario(doc, "x.yaml")


def test_duplicate_step_ids_and_unknown_parent() -> None:
    doc = _doc()
    doc["steps"].append(copy.deepcopy(doc["steps"][0]))
    with pytest.raises(ScenarioError, match=r"steps\[1\].id: duplicate step id 's1'"):
        parse_scenario(doc, "x.yaml")
    doc = _doc()
    doc["processes"]["p"]["parent"] = "ghost"
    with pytest.raises(ScenarioError, match=r"processes.p.parent: unknown process alias 'ghost'"):
        parse_scenario(doc, "x.yaml")


def test_file_level_errors(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="broken.yaml: invalid YAML"):
        load_file(bad)
    wrong = tmp_path / "other.yaml"
    wrong.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    with pytest.raises(ScenarioError, match="other.yaml: id: must equal the file name stem 'other'"):
        load_file(wrong)
    with pytest.raises(ScenarioError, match="unknown scenario"):
        load_scenarios(["no_such_scenario"])


def test_every_bundled_file_is_named_after_its_id() -> None:
    for path in SCENARIO_DIR.glob("*.yaml"):
        assert load_file(path).id == path.stem


def test_simulate_cli_writes_data_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    from iisdetect.cli import main

    out = tmp_path / "out"
    assert main(["simulate", "seed_test2_write_dll_inetsrv", "--format", "xml", "-o", str(out)]) == 0
    assert (out / "seed_test2_write_dll_inetsrv.xml").read_bytes().startswith(b"<Event xmlns=")
    with (out / "seed_test2_write_dll_inetsrv.truth.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    malicious = [r for r in rows if r["malicious"] == "true"]
    assert len(rows) == 4 and len(malicious) == 1
    assert malicious[0]["expect_seed"] == "IIS_Dir_DLL_Write" and malicious[0]["event_id"] == "11"
    assert main(["simulate", "-o", str(out)]) == 2
    assert main(["simulate", "nope", "-o", str(out)]) == 2
    assert "unknown scenario" in capsys.readouterr().err
