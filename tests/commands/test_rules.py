"""``iisdetect rules list`` and ``rules check``: what would run, and lint findings with file/line/column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from iisdetect.cli import main
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.rulesets import rules_root

GOOD = """title: My IIS rule
id: 0b5e1f57-7a43-4d1e-9d8f-4c3b2a1f0e01
status: test
level: high
detection_type: My_Type
correlation_role: load
tags:
  - attack.persistence
  - attack.t1505.004
logsource:
  product: windows
  category: image_load
detection:
  sel:
    Image|endswith: '\\\\w3wp.exe'
    ImageLoaded|contains: '\\\\Temp\\\\'
  condition: sel
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_has_every_column_and_follows_selection(capsys) -> None:
    code, out, _ = run(capsys, "rules", "list", "--format", "json")
    rules = json.loads(out)["rules"]
    assert code == 0 and len(rules) == len(list((rules_root() / "iis").glob("*.yml")))
    r = next(x for x in rules if x["detection_type"] == "IIS_Untrusted_Module_Load")
    assert r["level"] == "medium" and r["status"] == "experimental" and r["logsource"] == "windows/image_load"
    assert r["correlation_role"] == "load" and r["file"].endswith("iis_untrusted_module_load.yml")
    assert r["sources"]  # the mapped channel variants
    _, out, _ = run(capsys, "rules", "list", "--format", "json", "--min-level", "high")
    assert {x["level"] for x in json.loads(out)["rules"]} == {"high"}


def test_list_csv_and_table(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "rules", "list", "--format", "csv", "--ruleset", "seed")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3 and all(r["id"] and r["file"] for r in rows)
    code, out, err = run(capsys, "rules", "list", "--ruleset", "seed")
    assert code == 0 and "IIS_Dir_DLL_Write" in out and "3 rule(s)" in err


def test_check_good_rule_is_clean(capsys, tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(GOOD)
    code, out, _ = run(capsys, "rules", "check", str(tmp_path))
    assert code == 0 and out.strip().endswith("1 file(s), 0 error(s), 0 warning(s)")


def test_check_yaml_error_has_file_line_column(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(GOOD.replace("  sel:\n", "  sel:\n   bad: [x\n", 1))
    code, out, _ = run(capsys, "rules", "check", str(bad), "--format", "json")
    finding = json.loads(out)["findings"][0]
    assert code == 1 and finding["check"] == "yaml" and finding["severity"] == "error"
    assert finding["file"] == str(bad) and finding["line"] == 16 and finding["column"] >= 1


def test_check_reports_pysigma_and_our_problems(capsys, tmp_path: Path) -> None:
    (tmp_path / "ours.yml").write_text(
        GOOD.replace("detection_type: My_Type\n", "")
        .replace("correlation_role: load", "correlation_role: loader")
        .replace("attack.t1505.004", "attack.t15054")
        .replace("category: image_load", "category: no_such_category")
    )
    (tmp_path / "sigma.yml").write_text(GOOD.replace("  condition: sel", "  other:\n    Image: x\n  condition: sel"))
    code, out, _ = run(capsys, "rules", "check", str(tmp_path), "--format", "json")
    findings = json.loads(out)["findings"]
    assert code == 1
    ours = {f["message"] for f in findings if f["file"].endswith("ours.yml")}
    assert "no 'detection_type'" in ours
    assert any("correlation_role 'loader'" in m for m in ours)
    assert any("attack.t15054" in m for m in ours)
    assert any("not in mapping/logsources.yaml" in m for m in ours)
    sigma = [f for f in findings if f["file"].endswith("sigma.yml")]
    assert [f["check"] for f in sigma] == ["pysigma.DanglingDetectionIssue"]
    good_line = next(f for f in findings if "correlation_role" in f["message"])
    assert good_line["line"] == 5  # detection_type was removed above it


def test_check_usage_errors(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "rules", "check", str(tmp_path / "none"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "rules", "check", str(tmp_path))
    assert code == 2 and "no .yml/.yaml rule files" in err


def test_export_takes_the_same_selection(capsys) -> None:
    code, out, err = run(capsys, "export", "--target", "qradar", "--min-level", "high")
    high = [r for r in load_ruleset("iis") if r.level in ("high", "critical")]
    assert code == 0 and f"{len(high)} rule(s) exported" in err and len(high) >= 4
    assert "IIS_Logging_Tamper" in out and "IIS_Untrusted_Module_Load" not in out
