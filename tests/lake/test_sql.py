"""The lake SQL renderer: Sigma semantics in SQL, checked by running the SQL on DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from iisdetect.engine import ir
from iisdetect.lake.sql import LakeSqlError, SqlRenderer


def run(node: ir.Node, data: dict[str, str]) -> bool:
    r = SqlRenderer("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE events (EventID BIGINT, Channel VARCHAR, data MAP(VARCHAR, VARCHAR))")
    con.execute("INSERT INTO events VALUES (7, 'Security', MAP(?, ?))", [list(data), list(data.values())])
    return con.execute(f"SELECT {r.condition(node)} FROM events").fetchone()[0]


@pytest.mark.parametrize(
    ("node", "data", "want"),
    [
        (ir.Not(ir.Str("Image", "endswith", r"\w3wp.exe")), {}, True),  # NOT over a missing field is true
        (ir.Str("Image", "endswith", r"\W3WP.exe"), {"Image": r"C:\x\w3wp.EXE"}, True),
        (ir.Str("Image", "eq", "a'b"), {"Image": "A'B"}, True),
        (ir.Glob("P", ("100%", ir.STAR, "a_b#")), {"P": "100%xxa_b#"}, True),
        (ir.Glob("P", ("100%", ir.STAR, "a_b")), {"P": "100xxaXb"}, False),  # % and _ are literals
        (ir.Glob("P", ("C:\\", ir.ONE, "\\x")), {"P": "c:\\Q\\X"}, True),
        (ir.Regex("P", r"dontLog:\s*true", True), {"P": "/DONTLOG: True"}, True),
        (ir.Num("EventID", 7), {}, True),
        (ir.Num("Port", 10), {"Port": "10"}, True),
        (ir.Num("Port", 10), {"Port": "010"}, False),  # decimal integers only, as natively (issue 10)
        (ir.Num("Port", 10), {"Port": "0xa"}, False),
        (ir.Num("EventID", 7), {"EventID": "8"}, True),  # System fields win over EventData of that name
        (ir.Null("P"), {"P": ""}, False),  # null means absent; '' is a value
        (ir.Null("P"), {}, True),
        (ir.Str("Channel", "eq", "security"), {}, True),  # a System field by its Sigma name
    ],
)
def test_semantics(node: ir.Node, data: dict[str, str], want: bool) -> None:
    assert run(node, data) is want


def test_spark_literals_escape_backslashes_and_quotes() -> None:
    r = SqlRenderer("spark")
    assert r.string("C:\\new\\it's") == "'C:\\\\new\\\\it\\'s'"
    assert r.leaf(ir.Str("Image", "contains", "x")) == "contains(lower(try_element_at(`data`, 'Image')), 'x')"


def test_cidr_is_refused_by_name() -> None:
    with pytest.raises(LakeSqlError, match="Cidr"):
        SqlRenderer("duckdb").leaf(ir.Cidr("DestinationIp", "10.0.0.0/8"))


@pytest.mark.parametrize(
    ("when", "want"),
    [
        ("2026-11-21T23:30:00.000000Z", True),  # Saturday 23:30
        ("2026-11-22T01:59:00.000000Z", True),  # Sunday 01:59
        ("2026-11-22T02:00:00.000000Z", False),  # Sunday 02:00: the window's end is exclusive
        ("2026-11-20T23:30:00.000000Z", False),  # Friday
        ("2031-11-22T01:00:00.000000Z", False),  # after the window's end date
        ("garbage", False),
    ],
)
def test_maintenance_window_is_native_and_agrees_with_the_evaluator(when: str, want: bool) -> None:
    """Saturday and Sunday 00:00-02:00 and 22:00-24:00, in 2026-2030: SQL and Python say the same."""
    from iisdetect.engine.evaluate import compile_node
    from iisdetect.model.event import Event

    node = ir.Or((
        ir.TimeWindow("TimeCreated", "2026-01-01T00:00:00", "2031-01-01T00:00:00", (5, 6), 0, 120),
        ir.TimeWindow("TimeCreated", "2026-01-01T00:00:00", "2031-01-01T00:00:00", (5, 6), 1320, 1440),
    ))  # fmt: skip
    ev = Event("Security", "p", 7, "h", when, 1, None, {})
    assert compile_node(node)(ev) is want
    r = SqlRenderer("duckdb")
    assert "regexp_matches" in r.condition(node) and "isodow" in r.condition(node)
    con = duckdb.connect()
    con.execute("CREATE TABLE events (TimeCreated VARCHAR, data MAP(VARCHAR, VARCHAR))")
    con.execute("INSERT INTO events VALUES (?, MAP([], []))", [when])
    assert con.execute(f"SELECT {r.condition(node)} FROM events").fetchone()[0] is want
