"""``export --target xdr``: Device*Events KQL parsed and bound by Kusto.Language against the declared
advanced-hunting schemas; rules without a table reported, the signature join present when needed."""

from __future__ import annotations

import json

import pytest

from iisdetect.exporters.kql import KqlRenderer
from iisdetect.exporters.xdr import export_json
from iisdetect.mapping.targets import load_target_mapping
from tests.exporters.common import TUNINGS, rules
from tests.exporters.kusto_check import kusto_errors

M = load_target_mapping("xdr")
SCHEMAS = {k: " ".join(v.split()) for k, v in M.raw["schemas"].items()}


def _render(tuning: str) -> tuple[dict[str, str], KqlRenderer]:
    r = KqlRenderer(M)
    r.target = "xdr"
    return {rule.id: r.rule(rule) for rule in rules(tuning)}, r


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_exported_queries_parse_and_bind(tuning: str) -> None:
    queries, _ = _render(tuning)
    live = {k: q for k, q in queries.items() if q}
    assert len(live) >= 10
    errs = kusto_errors(SCHEMAS, list(live.values()))
    assert {rid: e for rid, e in zip(live, errs, strict=True) if e} == {}


def test_the_schema_check_catches_the_missing_signature_columns() -> None:
    """Negative control (exports.md 4): Signed is no DeviceImageLoadEvents column without the join."""
    errs = kusto_errors(SCHEMAS, ['DeviceImageLoadEvents | where tostring(IsSigned) =~ "false"'])
    assert errs[0] and errs[0][0]["code"] == "KS142"


def test_tables_per_kind_and_unexportable_rules_reported() -> None:
    queries, r = _render("untuned")
    by_title = {rule.detection_type: queries[rule.id] for rule in rules("untuned")}
    assert by_title["IIS_Untrusted_Module_Load"].startswith("DeviceImageLoadEvents\n| join kind=leftouter")
    assert 'strcat(RegistryKey, @"\\", RegistryValueName)' in by_title["IIS_Component_Registration"]
    assert "SecurityEvent" not in "".join(queries.values())
    lines = "\n".join(r.report.lines())
    assert "no script-block table" in lines and "no IIS configuration table" in lines
    no_table = {rid for rid, q in queries.items() if not q}
    assert no_table == {
        x.id
        for x in rules("untuned")
        if all(
            v.source.name in ("powershell_4104", "iis_configuration", "application")
            or v.source.channels[0] != "Microsoft-Windows-Sysmon/Operational"
            for v in x.variants
        )
        and not any(v.source.name.startswith("sysmon") for v in x.variants)
    }


def test_graph_detection_rule_bodies() -> None:
    bodies = json.loads(export_json(list(rules("example"))))
    assert bodies and all(b["queryCondition"]["queryText"] and b["schedule"]["period"] == "1H" for b in bodies)
    tmpl = bodies[0]["detectionAction"]["alertTemplate"]
    assert tmpl["category"] == "Persistence" and "T1505.004" in tmpl["mitreTechniques"]
