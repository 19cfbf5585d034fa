"""``iisdetect export --target ...`` end to end: files written, report on stderr, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iisdetect.engine.ruleset import load_ruleset
from tests.exporters.common import TUNINGS

EXE = [sys.executable, "-m", "iisdetect.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, "export", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("target", ["splunk", "elastic-eql", "elastic-esql", "sentinel", "xdr"])
def test_each_target_writes_its_file_and_reports(target: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = run("--target", target, "--ruleset", "all", "--tuning", str(TUNINGS["windows"]), "-o", str(out))
    assert p.returncode == 0, p.stderr
    text = out.read_text(encoding="utf-8")
    assert f"{len(load_ruleset('all'))} rule(s) exported for " + target in p.stderr and "largest query:" in p.stderr
    if target.startswith("elastic"):
        assert len([json.loads(x) for x in text.splitlines()]) == len(load_ruleset("all"))
    elif target == "sentinel":
        assert len(list(yaml.safe_load_all(text))) == len(load_ruleset("all"))
    elif target == "xdr":
        assert 0 < len(json.loads(text)) < len(load_ruleset("all")) and "no script-block table" in p.stderr
    else:
        assert text.count("\n[iisdetect - ") == len(load_ruleset("all"))
    if target == "elastic-eql":
        assert "EQL has no date functions" in p.stderr


def test_sentinel_arm_and_sigma_folder(tmp_path: Path) -> None:
    arm = tmp_path / "rules.json"
    assert run("--target", "sentinel", "--format", "arm", "-o", str(arm)).returncode == 0
    assert json.loads(arm.read_text())["resources"]
    p = run("--target", "sigma", "--tuning", str(TUNINGS["example"]), "-o", str(tmp_path / "sigma"))
    assert p.returncode == 0, p.stderr
    assert len(list((tmp_path / "sigma").rglob("*.yml"))) == len(load_ruleset("iis"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "sigma"], "give a folder with -o DIR"),
        (["--target", "splunk", "--last", "24h"], "--last applies to --target qradar"),
        (["--target", "splunk", "--tuning", "/nonexistent.yaml"], "tuning file not found"),
        (["--target", "elastic-eql", "--mapping", "/nonexistent.yaml"], "nonexistent"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    p = run(*args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


SIGMAHQ = Path(__file__).resolve().parents[3] / "shared" / "sigmahq" / "rules" / "windows"


@pytest.mark.parametrize("target", ["qradar", "splunk", "elastic-eql", "elastic-esql", "sentinel", "duckdb"])
def test_sigmahq_rules_export_or_are_skipped_by_name(target: str, tmp_path: Path) -> None:
    """Rules the project did not write: a rule that cannot be compiled (keywords) or expressed
    (SQL and computed fields) stops the export with one line, or is listed with --skip-unsupported."""
    if not SIGMAHQ.is_dir():
        pytest.skip(f"SigmaHQ rules not found at {SIGMAHQ}")
    rules = [str(SIGMAHQ / "builtin" / "win_alert_mimikatz_keywords.yml"),
             str(SIGMAHQ / "file" / "file_delete" / "file_delete_win_delete_own_image.yml"),
             str(SIGMAHQ / "process_creation" / "proc_creation_win_susp_cross_user_process_spawn.yml")]  # fmt: skip
    args = ["--target", target, "--no-ruleset", *(a for r in rules for a in ("--rules", r)), "-o", str(tmp_path / "o")]
    strict = run(*args)
    assert strict.returncode == 2 and "Mimikatz Use" in strict.stderr and "Traceback" not in strict.stderr
    assert len(strict.stderr.strip().splitlines()) == 1
    loose = run(*args, "--skip-unsupported")
    assert loose.returncode == 0, loose.stderr
    skipped = [ln for ln in loose.stderr.splitlines() if ln.startswith("skipped: ")]
    want = 2 if target == "duckdb" else 1  # SQL cannot compute 4688's User (the cross-user rule)
    assert len(skipped) == want and "'Mimikatz Use'" in skipped[0]
    assert f"{3 - want} rule(s) exported for {target}, {want} skipped as unsupported" in loose.stderr
    text = (tmp_path / "o").read_text(encoding="utf-8")
    if target != "qradar":  # the AQL query names detection types, not rule ids
        assert "f01d1f70-cd41-42ec-9c0b-26dd9c22bf29" in text  # the fieldref rule made it
        assert ("d2b7a134-9c3e-4f8a-b56d-e0c1f8a29b47" in text) is (target != "duckdb")


def test_a_rule_with_no_place_in_the_target_is_not_counted_as_exported(tmp_path: Path) -> None:
    rule = SIGMAHQ / "file" / "file_delete" / "file_delete_win_delete_own_image.yml"  # Sysmon 23: no XDR table
    if not rule.is_file():
        pytest.skip(f"SigmaHQ rules not found at {SIGMAHQ}")
    p = run("--target", "xdr", "--no-ruleset", "--rules", str(rule), "-o", str(tmp_path / "x.json"))
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "x.json").read_text()) == []
    assert "0 rule(s) exported for xdr, 1 left out (no xdr source for any variant)" in p.stderr
