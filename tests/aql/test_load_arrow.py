"""The Arrow loader: row order across shapes, sparse columns, case variants, hostile values, bounds."""

from __future__ import annotations

import gc

import duckdb
import pytest

from iisdetect.aql import Emulator
from iisdetect.aql.table import BASE, load_events
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.event import Event
from tests.helpers import SECURITY, ev


def _events() -> list[Event]:
    """Interleaved shapes (three key sets), a case-variant key pair, a user only some shapes carry."""
    out = []
    for i in range(10):
        if i % 3 == 0:
            out.append(ev(1, {"Image": f"a{i}.exe", "CommandLine": f"a{i}", "User": "CORP\\svc"}))
        elif i % 3 == 1:
            out.append(ev(4688, {"SubjectUserName": "bob", "SubjectDomainName": "CORP", "NewProcessName": f"n{i}"},
                          log=SECURITY, computer="DC01"))  # fmt: skip
        else:
            out.append(ev(13, {"TargetObject": f"k{i}", "targetobject": f"late{i}", "Details": "-"}))
    return out


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        f'SELECT "EventID", "Image", "CommandLine", "NewProcessName", "TargetObject", "Details", username, '
        f'"EventRecordID" FROM {BASE}'
    ).fetchall()


@pytest.mark.parametrize("batch", [1, 3, 4, 100])
def test_rows_keep_input_order_and_sparse_columns_are_null(tmp_path, batch: int) -> None:
    events = _events()
    con = duckdb.connect()
    res = load_events(con, events, load_mapping(), batch=batch, parts_dir=str(tmp_path))
    assert res.events == 10
    rows = _rows(con)
    assert [r[7] for r in rows] == [e.record_id for e in events]  # input order, across batches and shapes
    assert rows[0] == ("1", "a0.exe", "a0", None, None, None, "CORP\\svc", events[0].record_id)
    assert rows[1][:4] == ("4688", None, None, "n1") and rows[1][6] == "CORP\\bob"  # Subject fields joined
    # "TargetObject" and "targetobject" share one column: the later value wins, as in a dict
    assert rows[2][:6] == ("13", None, None, None, "late2", "-") and rows[2][6] == "S-1-5-18"  # "-" is no user
    kinds = con.execute(f"SELECT table_type FROM information_schema.tables WHERE table_name = '{BASE}'").fetchall()
    assert kinds == [("VIEW",)]
    con.close()


def test_without_parts_dir_the_rows_are_copied_into_a_table() -> None:
    events = _events()
    con_view, con_table = duckdb.connect(), duckdb.connect()
    import tempfile

    with tempfile.TemporaryDirectory() as parts:
        load_events(con_view, events, load_mapping(), batch=4, parts_dir=parts)
        load_events(con_table, events, load_mapping(), batch=4)
        assert _rows(con_view) == _rows(con_table)
    kinds = con_table.execute(f"SELECT table_type FROM information_schema.tables WHERE table_name = '{BASE}'")
    assert kinds.fetchall() == [("BASE TABLE",)]


def test_hostile_values_do_not_end_the_load() -> None:
    forged = ev(1, {"Image": "x.exe"})
    forged.record_id = 1 << 64  # does not fit BIGINT: NULL, the locator keeps the place
    surrogate = ev(1, {"Image": "bad\ud800.exe"})  # Arrow cannot encode a lone surrogate
    emu = Emulator()
    assert emu.load([forged, surrogate, ev(1, {"Image": "ok.exe"})]) == 3
    rows = emu.query('SELECT "EventRecordID", "Image" FROM events').rows
    assert rows[0] == (None, "x.exe") and rows[1][1] == "bad?.exe" and rows[2][1] == "ok.exe"
    emu.close()


def test_gc_is_restored_even_when_the_event_stream_fails() -> None:
    def broken():
        yield ev(1, {"Image": "x.exe"})
        raise OSError("disk gone")

    assert gc.isenabled()
    with pytest.raises(OSError, match="disk gone"):
        load_events(duckdb.connect(), broken(), load_mapping(), batch=1)
    assert gc.isenabled()


def test_a_locked_emulator_reads_its_parts_and_nothing_else(tmp_path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    emu = Emulator()
    emu.load(_events())
    assert emu.query("SELECT COUNT(*) FROM events").rows == [(10,)]
    with pytest.raises(duckdb.Error):  # past the AQL guard: the locked connection still refuses the file
        emu.con.execute(f"SELECT * FROM read_csv('{secret}')").fetchall()
    emu.close()
