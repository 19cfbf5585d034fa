"""Sigma ``|fieldref`` in every export: the same events match as in hunt, or the export says it cannot.

SigmaHQ uses it (``file_delete_win_delete_own_image.yml``: ``TargetFilename|fieldref: Image``;
``win_security_explicit_credential_local_logon.yml``: ``SubjectUserName|fieldref: TargetUserName``).
Natively the test is case-insensitive and false when either field is missing, also under NOT. Each
dialect is checked by running it where an evaluator exists here (QRadar emulator, DuckDB, the SPL
evaluator), else by its parser (ES|QL, KQL) and by what it reports (EQL cannot compare fields).
"""

from __future__ import annotations

import pytest

from iisdetect.engine import ir
from iisdetect.exporters.elastic_eql import EqlRenderer
from iisdetect.exporters.elastic_esql import EsqlRenderer
from iisdetect.exporters.kql import KqlRenderer
from iisdetect.exporters.qradar import ExportError, Renderer, export_rules
from iisdetect.exporters.splunk import SplunkRenderer
from iisdetect.lake.sql import SqlRenderer
from iisdetect.mapping.targets import load_target_mapping
from tests.aql.seedcompare import aql_rows, as_counter, native_rows
from tests.exporters.common import hunt_matches
from tests.exporters.esql_check import esql_syntax_errors
from tests.exporters.spl_eval import SplQuery
from tests.exporters.test_splunk import splunk_event
from tests.helpers import ev

SRC = ir.Source("sysmon_11", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (11,))
IMG = r"C:\Users\Public\dropper.exe"


def rule(cond: ir.Node) -> ir.CompiledRule:
    return ir.CompiledRule("r1", "t", "high", "T", "", "", (), (), (ir.Variant(SRC, cond),))


EVENTS = [
    ev(11, {"Image": IMG, "TargetFilename": IMG.upper()}),  # 0: deletes its own image (case differs)
    ev(11, {"Image": IMG, "TargetFilename": IMG + ":Zone.Identifier"}),  # 1: starts with the image
    ev(11, {"Image": IMG, "TargetFilename": r"C:\inetpub\wwwroot\bin\a.dll"}),  # 2: unrelated
    ev(11, {"TargetFilename": IMG}),  # 3: no Image at all
    ev(11, {"Image": "dropper.exe", "TargetFilename": IMG}),  # 4: ends with the other value
]
CONDITIONS = {
    "eq": ir.FieldRef("TargetFilename", "Image"),
    "startswith": ir.FieldRef("TargetFilename", "Image", "startswith"),
    "endswith": ir.FieldRef("TargetFilename", "Image", "endswith"),
    "not_eq": ir.Not(ir.FieldRef("TargetFilename", "Image")),
}
WANT = {"eq": {0}, "startswith": {0, 1}, "endswith": {0, 4}, "not_eq": {1, 2, 3, 4}}


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_native_semantics(name: str) -> None:
    assert hunt_matches([rule(CONDITIONS[name])], EVENTS)["r1"] == WANT[name]


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_qradar_aql_matches_what_hunt_matches(name: str) -> None:
    rules = [rule(CONDITIONS[name])]
    native = native_rows(rules, EVENTS)
    assert len(native) == len(WANT[name])
    assert as_counter(aql_rows(EVENTS, export_rules(rules))) == as_counter(native)


def test_qradar_refuses_contains_by_name() -> None:
    with pytest.raises(ExportError, match="contains the value of Image"):
        Renderer().leaf(ir.FieldRef("TargetFilename", "Image", "contains"))


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_lake_sql_on_duckdb_matches_what_hunt_matches(name: str) -> None:
    import duckdb

    r = SqlRenderer("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE events (i INTEGER, EventID BIGINT, data MAP(VARCHAR, VARCHAR))")
    for i, e in enumerate(EVENTS):
        con.execute("INSERT INTO events VALUES (?, 11, MAP(?, ?))", [i, list(e.data), list(e.data.values())])
    got = {row[0] for row in con.execute(f"SELECT i FROM events WHERE {r.condition(CONDITIONS[name])}").fetchall()}
    assert got == WANT[name]


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_splunk_matches_what_hunt_matches(name: str) -> None:
    q = SplQuery(SplunkRenderer(load_target_mapping("splunk")).rule(rule(CONDITIONS[name])))
    assert {i for i, e in enumerate(EVENTS) if q.matches(splunk_event(e))} == WANT[name]


def test_esql_parses_and_eql_says_it_cannot() -> None:
    m = load_target_mapping("elastic")
    for cond in CONDITIONS.values():
        query, _ = EsqlRenderer(m).rule(rule(cond))
        assert "TO_LOWER(file.path)" in query and esql_syntax_errors(query) == []
    eql = EqlRenderer(m)
    assert eql.condition(CONDITIONS["eq"], SRC) == "false"
    assert any("cannot compare field TargetFilename with Image" in line for line in eql.report.lines())


def test_kql_compares_lowered_values_with_both_present() -> None:
    text = KqlRenderer(load_target_mapping("sentinel")).condition(CONDITIONS["startswith"], SRC)
    assert "indexof(tolower(" in text and text.count("isnotnull(") == 2
