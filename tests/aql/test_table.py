"""The loader: batches, columns that appear late, renamed clashes, lookup tables, empty input."""

from __future__ import annotations

import duckdb

from iisdetect.aql import Emulator
from iisdetect.aql.table import BASE, fill_table, load_events
from iisdetect.mapping.qradar import load_mapping
from tests.helpers import SECURITY, ev, image_load, registry_set


def test_batches_with_late_columns_and_clashing_names() -> None:
    events = [
        image_load(r"C:\Users\Public\a.dll"),
        image_load(r"C:\Users\Public\b.dll"),
        registry_set(r"HKLM\x\W3SVC\y", "c.dll"),  # TargetObject/Details first appear in batch 2
        ev(3, {"SourceIp": "10.0.0.5", "Category": "net"}),  # clash with sourceip/category columns
        ev(4688, {"NewProcessName": r"C:\x.exe"}, log=SECURITY, computer="DC01"),
    ]
    con = duckdb.connect()
    res = load_events(con, events, load_mapping(), batch=2)
    assert res.events == 5
    assert con.execute(f"SELECT count(*) FROM {BASE}").fetchall() == [(5,)]
    rows = con.execute(f'SELECT "TargetObject", "Details" FROM {BASE} WHERE "EventID" = \'13\'').fetchall()
    assert rows == [(r"HKLM\x\W3SVC\y", "c.dll")]
    rows = con.execute(f'SELECT sourceip, "EventData.SourceIp", category, "EventData.Category" FROM {BASE} '
                       "WHERE \"EventID\" = '3'").fetchall()  # fmt: skip
    assert rows[0][:2] == ("10.0.0.5", "10.0.0.5") and rows[0][3] == "net" and isinstance(rows[0][2], int)
    names = dict(con.execute("SELECT aql_lk_id, aql_lk_name FROM aql_logsources").fetchall())
    assert sorted(names.values()) == ["Microsoft-Windows-Sysmon/Operational @ WEB01.corp.local", "Security @ DC01"]
    con.close()


def test_empty_input_gives_an_empty_queryable_table() -> None:
    emu = Emulator()
    emu.load([])
    r = emu.query("SELECT COUNT(*) AS n FROM events")
    assert r.rows == [(0,)] and r.now_source == "clock (no events)"
    emu.close()


def test_values_never_enter_sql_text() -> None:
    """A field value that is SQL is stored as data."""
    evil = "x'); DROP TABLE aql_events_base; --"
    emu = Emulator()
    emu.load([image_load(evil)])
    r = emu.query("SELECT ImageLoaded FROM events")
    assert r.rows == [(evil,)]
    emu.close()


def test_fill_table_inserts_rows_as_data() -> None:
    """Lookup rows (names from a user's mapping or reference data) go in as data, NULLs kept."""
    con = duckdb.connect()
    evil = "x'); DROP TABLE t; --"
    fill_table(con, "t", "id INTEGER, name VARCHAR", [(1, evil), (2, None), (3, "Linux OS")])
    assert con.execute("SELECT id, name FROM t ORDER BY id").fetchall() == [(1, evil), (2, None), (3, "Linux OS")]
    assert con.execute("SELECT typeof(id) FROM t LIMIT 1").fetchall() == [("INTEGER",)]  # the declared type
    fill_table(con, "t", "id INTEGER, name VARCHAR", [])  # re-created empty
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    con.close()
