"""``export --target sigma``: tuned rules written back as Sigma, re-loaded by our own loader, and
hunted without tuning: the matches must equal hunt-with-tuning's, rule by rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iisdetect.engine import ir
from iisdetect.engine.ruleset import load_rules
from iisdetect.exporters.base import ExportReport
from iisdetect.exporters.sigma import export_sigma_dir, leaf_selection, sigma_escape
from tests.exporters.common import TUNINGS, hunt_matches, rules, scenario_events


@pytest.mark.parametrize(
    ("node", "sel"),
    [
        (ir.Str("Image", "endswith", r"\a*b?.exe"), {"Image|endswith": r"\\a\*b\?.exe"}),
        (ir.Str("Image", "eq", "X", cased=True), {"Image|cased": "X"}),
        (ir.Glob("Computer", ("WEB0", ir.ONE, ".corp", ir.STAR)), {"Computer": "WEB0?.corp*"}),
        (ir.Regex("CommandLine", r"-enc\s", True), {"CommandLine|re|i": r"-enc\s"}),
        (ir.Num("EventID", 7), {"EventID": 7}),
        (ir.Null("Details"), {"Details": None}),
    ],
)
def test_leaf_selection(node: ir.Node, sel: dict) -> None:
    assert leaf_selection(node) == sel


def test_escape_roundtrips_through_pysigma() -> None:
    from sigma.types import SigmaString

    text = r"C:\Temp\*weird?\\"
    parsed = SigmaString(sigma_escape(text))
    assert parsed.contains_special() is False and "".join(parsed.s) == text


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_exported_sigma_hunts_like_hunt_with_tuning(tuning: str, tmp_path: Path) -> None:
    rs = rules(tuning)
    report = ExportReport("sigma")
    export_sigma_dir(rs, tmp_path, report)
    loaded = load_rules(None, [str(tmp_path)])
    assert loaded.warnings == []
    by_id = {r.id: r for r in loaded.rules}
    assert set(by_id) == {r.id for r in rs}
    assert all(not r.custom.get("tuning") for r in loaded.rules)  # the filter is now plain Sigma
    events = scenario_events()
    want = hunt_matches(rs, events)
    got = hunt_matches([by_id[r.id] for r in rs], events)
    assert got == want
    if tuning == "windows":
        assert any("TimeCreated regexes" in line for line in report.lines())


def test_tuned_file_keeps_the_original_detection(tmp_path: Path) -> None:
    rs = [r for r in rules("example") if r.custom.get("tuning")]
    path = export_sigma_dir(rs[:1], tmp_path)[0]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    orig = yaml.safe_load(Path(rs[0].path).read_text(encoding="utf-8"))
    assert doc["detection"]["condition"].startswith(f"({orig['detection']['condition']}) and not ")
    assert all(k in doc["detection"] for k in orig["detection"])
    assert doc["detection_type"] == orig["detection_type"] and "Tuned by iisdetect" in doc["description"]


def test_exported_rules_carry_the_baseline_as_plain_sigma(tmp_path: Path) -> None:
    """Read back with pySigma alone (no iisdetect loader, which would fill the baseline itself):
    no ``baseline:`` key, no empty item, and the known lists are in the detection."""
    from sigma.collection import SigmaCollection

    rs = rules("untuned")
    paths = export_sigma_dir(rs, tmp_path)
    with_baseline = {Path(r.path).stem for r in rs if "baseline" in yaml.safe_load(Path(r.path).read_text("utf-8"))}
    assert {"iis_dir_dll_write", "iis_known_deployment_write", "iis_config_module_added"} <= with_baseline
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "baseline" not in doc, path.name
        assert all(v is not None for v in doc["detection"].values()), path.name
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    assert "Microsoft Web Deploy V3" in texts["iis_known_deployment_write"]
    assert "rewrite.dll" in texts["iis_config_module_added"].lower()
    collection = SigmaCollection.from_yaml("\n---\n".join(texts.values()))
    assert len(collection.rules) == len(paths) and not collection.errors
