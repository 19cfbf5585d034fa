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
