"""pySigma -> IR lowering: modifiers become the right node, unsupported Sigma is named, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iisdetect.engine import ir
from iisdetect.engine.ruleset import compile_rule, load_rules


def rule(detection: dict, logsource: dict | None = None) -> dict:
    return {
        "title": "t",
        "id": "5f0b5f39-0d4c-4b6f-8d0e-2a7d9c4e1a11",
        "logsource": logsource or {"product": "windows", "category": "image_load"},
        "detection": detection,
        "level": "high",
    }


def cond(detection: dict, logsource: dict | None = None) -> ir.Node:
    compiled = compile_rule(rule(detection, logsource), Path("t.yml"))
    return compiled.variants[0].condition


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"Image|endswith": "\\w3wp.exe"}, ir.Str("Image", "endswith", "\\w3wp.exe")),
        ({"Image|startswith": "C:\\x"}, ir.Str("Image", "startswith", "C:\\x")),
        ({"Image|contains": "inetsrv"}, ir.Str("Image", "contains", "inetsrv")),
        ({"Image": "C:\\a.exe"}, ir.Str("Image", "eq", "C:\\a.exe")),
        ({"Image|cased": "A"}, ir.Str("Image", "eq", "A", cased=True)),
        (
            # Sigma: a backslash before * escapes it, so "folder\ then anything" is written \\*
            {"Image": "C:\\Windows\\WinSxS\\\\*\\TiWorker.exe"},
            ir.Glob("Image", ("C:\\Windows\\WinSxS\\", ir.STAR, "\\TiWorker.exe")),
        ),
        ({"Image|re": "(?i)w3wp"}, ir.Regex("Image", "(?i)w3wp")),
        ({"Image": None}, ir.Null("Image")),
        ({"EventID": 7}, ir.Num("EventID", 7)),
    ],
)
def test_lowering(spec: dict, expected: ir.Node) -> None:
    assert cond({"sel": spec, "condition": "sel"}) == expected


def test_windash_and_all_modifiers_expand() -> None:
    node = cond({"sel": {"CommandLine|windash|contains|all": ["-name:", "install"]}, "condition": "sel"})
    assert isinstance(node, ir.And)
    first = node.items[0]
    assert isinstance(first, ir.Or)
    assert {i.value for i in first.items} >= {"-name:", "/name:"}


def test_process_creation_has_sysmon_and_security_variants_with_renamed_fields() -> None:
    compiled = compile_rule(
        rule(
            {"sel": {"Image|endswith": "\\appcmd.exe"}, "condition": "sel"},
            {"product": "windows", "category": "process_creation"},
        ),
        Path("t.yml"),
    )
    by_name = {v.source.name: v for v in compiled.variants}
    assert by_name["sysmon_1"].condition == ir.Str("Image", "endswith", "\\appcmd.exe")
    assert by_name["security_4688"].condition == ir.Str("NewProcessName", "endswith", "\\appcmd.exe")
    assert by_name["security_4688"].source.event_ids == (4688,)


def test_unsupported_features_are_warnings_naming_the_rule(tmp_path: Path) -> None:
    bad = rule({"sel": {"DestinationPort|gt": 1024}, "condition": "sel"})
    bad["title"] = "compare rule"
    unknown = rule({"sel": {"a": "b"}, "condition": "sel"}, {"product": "linux", "category": "process_creation"})
    unknown["title"] = "linux rule"
    unknown["id"] = "6f0b5f39-0d4c-4b6f-8d0e-2a7d9c4e1a12"
    (tmp_path / "a.yml").write_text(yaml.safe_dump(bad))
    (tmp_path / "b.yml").write_text(yaml.safe_dump(unknown))
    (tmp_path / "c.yml").write_text("title: [unclosed")
    report = load_rules(None, [str(tmp_path)])
    assert report.rules == []
    text = "\n".join(report.warnings)
    assert "compare rule" in text and "SigmaCompareExpression" in text
    assert "linux rule" in text and "logsource" in text
    assert "c.yml" in text and len(report.warnings) == 3
