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
        (ir.Num("Port", 10), {"Port": "010"}, True),
        (ir.Null("P"), {"P": ""}, True),
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
