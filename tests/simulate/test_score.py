"""validate: metrics and expectation checks on a tiny hand-made case, then the real CLI."""

from __future__ import annotations

import orjson
import pytest

from iisdetect.cli import main
from iisdetect.model.event import Event
from iisdetect.simulate import sysmon
from iisdetect.simulate.model import SimEvent, SystemInfo, Truth
from iisdetect.simulate.score import Counts, evaluate

_SYS = SystemInfo(sysmon.PROVIDER, 3, 4, 7, 0, "0x8000000000000000", 1)


def _sim(key: str, malicious: bool, marker: str, **truth: object) -> SimEvent:
    ev = Event("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 7, "H", "", None, None,
               {"Marker": marker})  # fmt: skip
    return SimEvent(ev, _SYS, Truth(key, "scn", key, malicious, **truth))  # type: ignore[arg-type]


def _rule(event: Event) -> set[str]:
    """A fake ruleset: fires A on markers containing 'a' and B on markers containing 'b'."""
    marker = event.data["Marker"]
    return {t for t, ch in (("A", "a"), ("B", "b")) if ch in marker}


def test_counts_and_problems_on_a_hand_made_case() -> None:
    events = [
        _sim("m1", True, "a", expect={"x": ("A",)}),  # TP A
        _sim("m2", True, "", expect={"x": ("A",)}),  # FN A (problem)
        _sim("m3", True, "ab", expect={"x": ("A",)}),  # TP A, B undeclared on malicious (problem)
        _sim("m4", True, "", expect={"x": ("B",)}, known_miss={"x": "gap"}),  # FN B, accepted
        _sim("b1", False, "b"),  # FP B (problem)
        _sim("b2", False, "a", known_fp={"x": ("A",)}),  # FP A, accepted
        _sim("b3", False, "", known_fp={"x": ("B",)}),  # stale known FP (problem)
        _sim("b4", False, ""),  # TN
        _sim("m5", True, "", allow={"x": ("A",)}),  # allowed-only, silent: ignored
    ]
    report = evaluate(events, {"x": _rule})
    a, b = report.by_type["x"]["A"], report.by_type["x"]["B"]
    assert (a.tp, a.fp, a.fn) == (2, 1, 1)
    assert (b.tp, b.fp, b.fn) == (1, 1, 1)
    assert a.precision == pytest.approx(2 / 3) and a.recall == pytest.approx(2 / 3)
    scen = report.by_scenario["x"]["scn"]
    assert (scen.tp, scen.fp, scen.fn) == (2, 2, 2)  # m1,m3 / b1,b2 / m2,m4
    assert report.scenarios["scn"].events == 9 and report.scenarios["scn"].malicious == 5
    messages = sorted((p.event_key, p.message) for p in report.problems)
    assert messages == [
        ("b1", "B fired on a benign event but is not declared (expect/known_fp)"),
        ("b3", "declared known_fp B no longer fires: remove it from the scenario"),
        ("m2", "expected A did not fire"),
        ("m3", "B fired on a malicious event but is not declared (expect/known_fp)"),
    ]
    assert not report.ok


def test_known_miss_that_starts_firing_is_a_change() -> None:
    report = evaluate([_sim("m", True, "a", expect={"x": ("A",)}, known_miss={"x": "gap"})], {"x": _rule})
    assert [p.message for p in report.problems] == ["documented known_miss now detected (A): update the scenario"]


def test_empty_counts_have_no_ratio() -> None:
    assert Counts().precision is None and Counts().recall is None


def test_cli_validate_seed_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--ruleset", "seed", "--background-events", "300", "--format", "json"]) == 0
    out = orjson.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["rulesets"] == ["seed"]
    by_type = out["by_type"]["seed"]
    assert by_type["IIS_Dir_DLL_Write"]["tp"] >= 3
    assert by_type["IIS_Non_Standard_Module_Load"]["fp"] > 0  # Defender / APM loads from ProgramData
    assert out["by_scenario"]["seed"]["art_t1505_004_1_appcmd_install"]["tp"] == 0  # documented seed gap


def test_cli_validate_all_passes_and_prints_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--background-events", "200"]) == 0
    out = capsys.readouterr().out
    assert "By detection type" in out and "default TP" in out and "seed TP" in out
    assert "OK: every declared expectation holds" in out


def test_cli_validate_missing_ruleset_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IISDETECT_RULES", str(tmp_path))
    assert main(["validate", "--ruleset", "iis"]) == 2
    assert "ruleset 'iis' not found" in capsys.readouterr().err


def test_cli_validate_fails_on_a_changed_expectation(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    from iisdetect.simulate import SCENARIO_DIR

    src = (SCENARIO_DIR / "benign_defender_w3wp_loads.yaml").read_text(encoding="utf-8")
    # drop the documented seed FP on MpOAV.dll: the seed still fires, so validate must fail
    changed = src.replace("    known_fp: {seed: [IIS_Non_Standard_Module_Load]}\n", "", 1)
    assert changed != src
    folder = Path(str(tmp_path))
    (folder / "benign_defender_w3wp_loads.yaml").write_text(changed, encoding="utf-8")
    code = main(["validate", "--ruleset", "seed", "--scenario-dir", str(folder), "--background-events", "0"])
    assert code == 1
    assert "IIS_Non_Standard_Module_Load fired on a benign event" in capsys.readouterr().out


def test_validate_with_tuning_scores_a_tuned_column(tmp_path, capsys) -> None:
    """The example tuning silences the benign admin scenarios (vendor modules need no tuning: the baseline
    reports them at informational); a tuning that hides an attack fails validate."""
    import orjson

    from iisdetect.cli import main

    scen = ["benign_developer_profile_dlls", "rgdoor_native_module"]
    code = main(
        [
            "validate",
            *scen,
            "--ruleset",
            "iis",
            "--background-events",
            "0",
            "--format",
            "json",
            "--tuning",
            "examples/tuning.example.yaml",
        ]
    )
    doc = orjson.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"]
    assert doc["by_scenario"]["iis"]["benign_developer_profile_dlls"]["fp"] > 0
    assert doc["by_scenario"]["iis+tuning"]["benign_developer_profile_dlls"]["fp"] == 0
    assert doc["by_scenario"]["iis+tuning"]["rgdoor_native_module"]["fn"] == 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - name: hide-everything-on-web\n    host: 'WEB*'\n")
    code = main(
        ["validate", *scen, "--ruleset", "iis", "--background-events", "0", "--format", "json", "--tuning", str(bad)]
    )
    doc = orjson.loads(capsys.readouterr().out)
    assert code == 1 and not doc["ok"]
    assert any("did not fire" in p["message"] for p in doc["problems"] if p["ruleset"] == "iis+tuning")
