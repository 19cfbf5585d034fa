"""A lake (``iisdetect convert``) loads into the very table its rows give as events; bad files are reported."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iisdetect.aql import Emulator, load_lake, table
from iisdetect.cli import main
from iisdetect.errors import UsageError
from iisdetect.lake.convert import convert
from iisdetect.lake.schema import lake_schema, row_event
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.stats import RunStats
from tests.aql.test_parallel_load import _dump

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "aql" / "seed_query.aql"


@pytest.fixture
def corpus_lake(corpus: Path, tmp_path: Path) -> Path:
    out = tmp_path / "corpus-lake"
    result = convert([str(corpus)], str(out))
    assert result.rows > 180_000 and len(result.files) > 400  # many small day partitions
    return out


def _as_events(files: list[str]):
    """The lake's rows (the ``data`` map) read with pyarrow and turned into canonical events, file by file
    in the loader's order: the reference load."""
    schema = lake_schema()
    for f in files:
        for rb in pq.ParquetFile(f).iter_batches(columns=[*schema.system, "data"]):
            for row in rb.to_pylist():
                row["data"] = None if row["data"] is None else dict(row["data"])
                yield row_event(row, schema)


def _both(files: list[str], batch: int = load_lake.LAKE_BATCH) -> tuple[tuple, tuple, RunStats]:
    mapping = load_mapping()
    con, ref = duckdb.connect(), duckdb.connect()
    stats = RunStats()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        written = load_lake.write_lake_parts(con, files, mapping, a, stats, batch)
        table.finish_load(con, mapping, written, materialise=False)
        table.load_events(ref, _as_events(files), mapping, parts_dir=b)
        return _dump(con), _dump(ref), stats


def test_the_converted_corpus_loads_as_its_events_do(corpus_lake: Path) -> None:
    # 868 columns from the map (case variants, reserved names), hundreds of log sources, unknown event
    # ids, Security's SubjectDomainName\SubjectUserName and '-' users
    files = load_lake.lake_files([str(corpus_lake)])
    lake, ref, stats = _both(files)
    assert lake[0] == ref[0] and len(lake[0]) > 800
    assert lake[2] == ref[2] and len(lake[2][0]) > 100
    assert lake[1] == ref[1]
    assert stats.records_read == len(lake[1]) > 180_000 and stats.files == len(files)
    wide = sum(p.wide for p in load_lake.lake_batches(files, RunStats()))
    assert 0 < wide < len(files)  # most files read by their wide columns, some from the map
    users = {r[lake[0].index("username")] for r in lake[1]}
    assert any("\\" in u for u in users if u) and "-" not in users


def _lake_file(path: Path, rows: list[dict], **write: int) -> str:
    schema = lake_schema()
    types = {"string": pa.string(), "int64": pa.int64()}
    fields = [pa.field(c, types[t]) for c, (_, t) in schema.system.items()]
    fields.append(pa.field("data", pa.map_(pa.string(), pa.string())))
    base = {c: None for c in schema.system}
    pq.write_table(pa.Table.from_pylist([{**base, **r} for r in rows], pa.schema(fields)), path, **write)
    return str(path)


def test_awkward_maps_and_users(tmp_path: Path) -> None:
    t = "2024-05-02T10:15:30.000000Z"
    rows = [
        {"Channel": "Security", "EventID": 4624, "Computer": "DC01", "TimeCreated": t, "UserID": "S-1-5-18",
         "data": [("SubjectUserName", "-"), ("TargetUserName", "bob"), ("SubjectDomainName", "CORP")]},
        {"Channel": "Security", "EventID": 4688, "Computer": "DC01", "TimeCreated": t,
         "data": [("TargetUserName", "tom"), ("SubjectUserName", "alice"), ("SubjectDomainName", "CORP"),
                  ("Category", "x"), ("", "empty")]},
        {"Channel": None, "EventID": None, "Computer": None, "TimeCreated": None, "data": None},  # all null
        {"Channel": "Microsoft-Windows-Sysmon/Operational", "Provider_Name": "Microsoft-Windows-Sysmon",
         "EventID": 13, "Computer": "WEB01", "TimeCreated": t, "UserID": "S-1-5-20",
         "data": [("TargetObject", "early"), ("targetobject", "late"), ("Details", None), ("User", "")]},
        {"Channel": "Security", "EventID": 4624, "Computer": "DC02", "TimeCreated": "not a time",
         "data": [("SubjectUserName", "carol"), ("SubjectDomainName", ""), ("IpAddress", "10.0.0.9")]},
    ]  # fmt: skip
    files = [_lake_file(tmp_path / "a.parquet", rows[:3]), _lake_file(tmp_path / "b.parquet", rows[3:])]
    for batch in (1, 2, 100):  # batches inside a file, across files, the whole lake at once
        lake, ref, _ = _both(files, batch)
        assert lake == ref
    cols = lake[0]
    got = dict(enumerate(lake[1]))
    user = cols.index("username")
    assert [got[i][user] for i in range(5)] == ["bob", "CORP\\alice", None, "S-1-5-20", "carol"]
    assert got[3][cols.index("TargetObject")] == "late" and got[3][cols.index("Details")] == ""
    assert got[1][cols.index("EventData.Category")] == "x" and got[1][cols.index("EventData.")] == "empty"
    assert got[4][cols.index("sourceip")] == "10.0.0.9" and got[4][cols.index("starttime")] is None


def test_bad_files_are_reported_and_the_load_goes_on(tmp_path: Path) -> None:
    good = _lake_file(tmp_path / "1-good.parquet", [{"Channel": "Security", "EventID": 1, "data": [("A", "b")]}])
    (tmp_path / "2-garbage.parquet").write_bytes(b"PAR1 not really")
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "3-other.parquet")
    whole = Path(good).read_bytes()
    (tmp_path / "4-truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "_SUCCESS").write_bytes(b"")
    files = load_lake.lake_files([str(tmp_path)])
    assert [Path(f).name for f in files] == ["1-good.parquet", "2-garbage.parquet", "3-other.parquet",
                                             "4-truncated.parquet"]  # fmt: skip
    emu = Emulator()
    stats = RunStats()
    try:
        assert emu.load_files([str(tmp_path)], stats) == 1
        assert emu.query("SELECT COUNT(*) FROM events").rows == [(1,)]
    finally:
        emu.close()
    assert stats.files == 1 and stats.files_failed == 3 and stats.records_read == 1
    reasons = {Path(s.source).name: s.reason for s in stats.skips}
    assert reasons == {"2-garbage.parquet": "unreadable", "3-other.parquet": "not a lake file",
                       "4-truncated.parquet": "unreadable"}  # fmt: skip


def test_a_lake_and_log_files_are_not_mixed(tmp_path: Path) -> None:
    _lake_file(tmp_path / "a.parquet", [])
    (tmp_path / "b.evtx").write_bytes(b"")
    with pytest.raises(UsageError, match="mix a lake"):
        load_lake.lake_files([str(tmp_path)])
    assert load_lake.lake_files([str(tmp_path / "b.evtx")]) is None


def test_seed_query_over_a_lake_gives_the_rows_it_gives_over_the_logs(tmp_path: Path, capsys) -> None:
    from iisdetect.simulate import load_scenarios, scenario_stream
    from iisdetect.simulate.writers import write

    logs = tmp_path / "logs.json"
    scn = next(s for s in load_scenarios() if s.id == "seed_test2_write_dll_inetsrv")
    with logs.open("wb") as fh:
        write(scenario_stream(scn, seed=1, background_events=300), "evtx-json", fh)
    assert main(["convert", str(logs), "-o", str(tmp_path / "lake")]) == 0
    rows = {}
    for name, path in (("logs", logs), ("lake", tmp_path / "lake")):
        capsys.readouterr()
        assert main(["aql", "--file", str(SEED), "--seed-compat", str(path), "--format", "json"]) == 0
        cap = capsys.readouterr()
        assert "loaded 3" in cap.err  # 300 background events and the scenario's
        rows[name] = sorted(json.dumps(r, sort_keys=True) for r in json.loads(cap.out)["rows"])
    assert rows["logs"] == rows["lake"] and any("IIS_Dir_DLL_Write" in r for r in rows["lake"])


def test_a_damaged_row_group_counts_its_rows_as_skipped(tmp_path: Path) -> None:
    rows = [{"Channel": "Security", "EventID": i, "data": [("A", f"value-{i}-" + "x" * 50)]} for i in range(3000)]
    path = tmp_path / "three-groups.parquet"
    _lake_file(path, rows, row_group_size=1000)
    group = pq.ParquetFile(path).metadata.row_group(1)
    at = group.column(group.num_columns - 1).data_page_offset + 40  # inside the second group's map values
    damaged = bytearray(path.read_bytes())
    damaged[at : at + 200] = b"\xff" * 200
    path.write_bytes(bytes(damaged))
    stats = RunStats()
    got = sum(p.batch.num_rows for p in load_lake.lake_batches([str(path)], stats, batch=300))
    assert got == stats.records_read == 2000 and stats.records_skipped == 1000 and stats.records_seen == 3000
    assert [(s.locator, s.reason, s.count) for s in stats.skips] == [
        ("row group 1 (rows 1001-2000)", "parquet read error", 1000)
    ]  # the groups before and after it are read


def test_a_lake_loads_into_a_db_file(tmp_path: Path, capsys) -> None:
    rows = [{"Channel": "Security", "EventID": 4624, "Computer": f"DC{i % 3}", "data": [("TargetUserName", f"u{i}")]}
            for i in range(50)]  # fmt: skip
    (tmp_path / "lake" / "day=unknown").mkdir(parents=True)
    _lake_file(tmp_path / "lake" / "day=unknown" / "p.parquet", rows)
    db = str(tmp_path / "events.duckdb")
    query = "SELECT LOGSOURCENAME(logsourceid) AS s, COUNT(*) AS n FROM events GROUP BY logsourceid ORDER BY s"
    assert main(["aql", query, str(tmp_path / "lake"), "--db", db, "--format", "csv"]) == 0
    loaded = capsys.readouterr().out
    assert main(["aql", query, "--db", db, "--format", "csv"]) == 0  # the stored table, no PATHs
    assert capsys.readouterr().out == loaded and loaded.count("\n") == 4 and ",17" in loaded


def test_wide_columns_give_way_to_the_map_where_a_key_has_none(tmp_path: Path) -> None:
    # convert writes identifier names as columns as well: rows 0-9 are read that way; row 10 has a name
    # that is no identifier, so from there on the group is read from the map (rows before it not again)
    from tests.commands.test_hunt import evtx_json_line
    from tests.helpers import ev

    events = [ev(1, {"Image": f"a{i}.exe", "CommandLine": f"c{i}"}) for i in range(10)]
    events.append(ev(1, {"Image": "b.exe", "odd name": "x", "image": "late"}))
    events += [ev(1, {"Image": f"d{i}.exe", "User": "CORP\\u"}) for i in range(5)]
    logs = tmp_path / "logs.json"
    logs.write_bytes(b"".join(evtx_json_line(e, i) + b"\n" for i, e in enumerate(events)))
    convert([str(logs)], str(tmp_path / "lake"))
    files = load_lake.lake_files([str(tmp_path / "lake")])
    pieces = list(load_lake.lake_batches(files, RunStats(), batch=4))
    assert [(p.wide, p.batch.num_rows) for p in pieces] == [(True, 4), (True, 4), (False, 4), (False, 4)]
    for batch in (4, 100):
        lake, ref, stats = _both(files, batch)
        assert lake == ref and stats.records_read == 16
    col = lake[0].index("Image")
    assert [r[col] for r in lake[1]][9:11] == ["a9.exe", "late"]  # the later case variant wins
