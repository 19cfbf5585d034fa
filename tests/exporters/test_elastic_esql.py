"""``export --target elastic-esql``: every query parsed by ``esql-parser`` (syntax only: no ES|QL
evaluator exists offline), leaves rendered as ES|QL's case rules need, NDJSON rule bodies."""

from __future__ import annotations

import json

import pytest

from iisdetect.engine import ir
from iisdetect.exporters.elastic_esql import EsqlRenderer, export_ndjson
from iisdetect.mapping.targets import load_target_mapping
from tests.exporters.common import TUNINGS, rules
from tests.exporters.esql_check import esql_syntax_errors

M = load_target_mapping("elastic")
SYSMON7 = ir.Source("sysmon_7", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (7,))


@pytest.mark.parametrize(
    ("node", "esql"),
    [
        (ir.Str("ImageLoaded", "eq", r"C:\A.dll"), r'TO_LOWER(file.path) == "c:\\a.dll"'),
        (ir.Str("Image", "contains", "Temp"), 'LOCATE(TO_LOWER(process.executable), "temp") > 0'),
        (ir.Str("Image", "endswith", "X", cased=True), 'ENDS_WITH(process.executable, "X")'),
        (ir.Glob("ImageLoaded", ("C:", ir.STAR, "A", ir.ONE)), 'TO_LOWER(file.path) RLIKE "c:.*a."'),
        (ir.Not(ir.Str("Signed", "eq", "true")),
         'NOT ((winlog.event_data.Signed IS NOT NULL AND TO_LOWER(winlog.event_data.Signed) == "true"))'),
        (ir.TimeWindow("TimeCreated", "2024-05-08T01:00:00", None, (5,), 1320, 1440),
         '(@timestamp >= TO_DATETIME("2024-05-08T01:00:00Z") AND DATE_EXTRACT("DAY_OF_WEEK", @timestamp) IN (6)'
         ' AND DATE_EXTRACT("MINUTE_OF_DAY", @timestamp) >= 1320)'),
    ],
)  # fmt: skip
def test_leaf_rendering(node: ir.Node, esql: str) -> None:
    assert EsqlRenderer(M).condition(node, SYSMON7) == esql


def test_parser_rejects_broken_queries() -> None:
    assert esql_syntax_errors("FROM a | WHERE x == ")
    assert esql_syntax_errors('FROM a | WHERE TO_LOWER(x) == "unterminated')
    assert esql_syntax_errors("FROM a METADATA _id | WHERE x == 1") == []


@pytest.mark.parametrize("tuning", list(TUNINGS))
def test_every_query_parses(tuning: str) -> None:
    r = EsqlRenderer(M)
    bad = {}
    for rule in rules(tuning):
        query, _ = r.rule(rule)
        assert query.startswith("FROM ") and "METADATA _id, _index, _version" in query
        errs = esql_syntax_errors(query)
        if errs:
            bad[rule.id] = errs[:3]
    assert bad == {}
    if tuning == "windows":
        assert not any("EQL has no date functions" in line for line in r.report.lines())


def test_ndjson_rules() -> None:
    rs = list(rules("windows"))
    bodies = [json.loads(line) for line in export_ndjson(rs).splitlines()]
    assert [b["rule_id"] for b in bodies] == [r.id for r in rs]
    assert all(b["type"] == "esql" and b["language"] == "esql" and "index" not in b for b in bodies)
    assert any('DATE_EXTRACT("DAY_OF_WEEK", @timestamp)' in b["query"] for b in bodies)
