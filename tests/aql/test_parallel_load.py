"""A load on several processes builds the very table one process builds: rows, order, columns, ids, accounting."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pytest

from iisdetect.aql import Emulator, parallel_load, table
from iisdetect.hunting import parallel
from iisdetect.mapping.qradar import load_mapping
from iisdetect.model.stats import RunStats
from tests.helpers import SECURITY, ev

LOOKUPS = ("aql_logsources", "aql_qids")


def _dump(con: duckdb.DuckDBPyConnection) -> tuple:
    con.execute("SET enable_progress_bar = false")
    columns = table.base_columns(con)
    rows = con.execute(f"SELECT * FROM {table.BASE}").fetchall()
    lookups = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in LOOKUPS]
    return columns, rows, lookups


def _load(paths: list[str], jobs: int, db: str | None = None) -> tuple[tuple, dict, int]:
    emu = Emulator(db)
    stats = RunStats()
    try:
        n = emu.load_files(paths, stats, jobs)
        return _dump(emu.con), stats.to_dict(), n
    finally:
        emu.close()


def _small_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split the corpus's files as the bench's big ones split: EVTX in 8-chunk slices, NDJSON in 1 MiB
    line ranges, runs of 2 MiB (forked workers inherit the patched values)."""
    monkeypatch.setattr(parallel_load, "SPLIT_BYTES", 512 * 1024)
    monkeypatch.setattr(parallel_load, "MIN_GROUP_BYTES", 2 << 20)
    monkeypatch.setattr(parallel, "SLICE_CHUNKS", 8)
    monkeypatch.setattr(parallel, "SLICE_BYTES", 1 << 20)


def test_the_corpus_loads_the_same_on_one_and_on_three_processes(corpus: Path, monkeypatch) -> None:
    # the whole corpus: 577 files (EVTX, zipped and plain JSON), damaged ones among them, 394 columns,
    # case-variant field names, hundreds of log sources, unknown event ids (synthetic QIDs)
    _small_units(monkeypatch)
    groups, workers, _ = parallel_load.plan([str(corpus)], 3)
    assert workers == 3 and len(groups) >= 4
    assert any(u.line for g in groups for u in g) and any(u.first > 0 for g in groups for u in g)  # both slice kinds
    one, one_stats, n1 = _load([str(corpus)], 1)
    many, many_stats, n3 = _load([str(corpus)], 3)
    assert n1 == n3 == one_stats["records_read"] > 180_000
    assert one[0] == many[0] and len(one[0]) > 400  # the same columns, in the same order and spelling
    assert one[2] == many[2]  # the same log sources and QIDs, numbered alike
    assert one[1] == many[1]  # every row, in order

    # the damaged records, counted and reported alike; only the order of one file's skip details may
    # differ (a run of bad chunks is reported where its slice ends, not where the file ends)
    def where(skip: dict) -> tuple[str, str]:
        return skip["source"], skip["locator"]

    assert one_stats["records_skipped"] > 0
    assert sorted(one_stats.pop("skips"), key=where) == sorted(many_stats.pop("skips"), key=where)
    assert one_stats == many_stats


def test_db_file_gets_the_same_stored_table(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    _small_units(monkeypatch)
    paths = [str(corpus / "EVTX-ATTACK-SAMPLES")]
    scratch = set(Path(tempfile.gettempdir()).glob("iisdetect-aql-parts-*"))  # another run's, if any
    one = _load(paths, 1, str(tmp_path / "one.duckdb"))
    many = _load(paths, 2, str(tmp_path / "two.duckdb"))
    assert one == many and one[2] > 8_000
    con = duckdb.connect(str(tmp_path / "two.duckdb"))
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [table.BASE]).fetchall()
    assert kind == [("BASE TABLE",)]  # a self-contained file, no parts left behind
    assert set(Path(tempfile.gettempdir()).glob("iisdetect-aql-parts-*")) <= scratch  # none left behind


def _run(events: list, folder: str) -> table.Written:
    con = duckdb.connect()
    try:
        return table.write_parts(con, events, load_mapping(), folder, prefix=f"p{len(list(Path(folder).iterdir()))}-")
    finally:
        con.close()


def test_merge_renumbers_and_respells_later_runs(tmp_path: Path) -> None:
    # run B meets DC02 before WEB01, an event id unknown to the mapping first, and spells Image "image":
    # its parts must be rewritten to the numbers and spelling a one-process load gives
    a = [ev(1, {"Image": "a.exe"}), ev(4688, {"NewProcessName": "n"}, log=SECURITY, computer="DC01")]
    b = [ev(4999, {"Other": "x"}, log=SECURITY, computer="DC02"), ev(1, {"image": "b.exe"}), ev(77, {"Image": "c"})]
    mapping = load_mapping()
    merge = parallel_load.Merge(mapping)
    run_a, run_b = _run(a, str(tmp_path)), _run(b, str(tmp_path))
    assert merge.add(run_a) == []  # the first run's numbers are the global ones
    jobs = merge.add(run_b)
    assert [j[0] for j in jobs] == run_b.parts
    path, sources, qids, renames = jobs[0]
    assert renames == {"image": "Image"} and sources[mapping.first_log_source_id] != mapping.first_log_source_id
    for job in jobs:
        parallel_load._rewrite(*job)
    con = duckdb.connect()
    table.finish_load(con, mapping, merge.out, materialise=False)
    serial = duckdb.connect()
    (tmp_path / "serial").mkdir()
    table.load_events(serial, a + b, mapping, parts_dir=str(tmp_path / "serial"))
    assert _dump(con) == _dump(serial)
    assert con.execute(f'SELECT "Image" FROM {table.BASE}').fetchall() == [("a.exe",), (None,), (None,), ("b.exe",),
                                                                            ("c",)]  # fmt: skip


def test_one_process_when_splitting_cannot_pay(corpus: Path, tmp_path: Path) -> None:
    small = str(corpus / "omerbenamram-evtx/samples/security.evtx")
    assert parallel_load.auto_jobs([small]) == 1  # 2 MiB: below AUTO_BYTES
    assert parallel_load.auto_jobs(["-"]) == 1
    assert parallel_load.plan([small], 4) == ([], 1, None)  # one unit: nothing to share
    assert parallel_load.plan(["-"], 4) == ([], 1, None)
    assert parallel_load.plan([str(tmp_path / "missing")], 4) == ([], 1, None)  # the reader reports it


def test_workers_are_capped_and_the_cap_is_said(corpus: Path, monkeypatch) -> None:
    _small_units(monkeypatch)
    emu = Emulator()
    try:
        n = emu.load_files([str(corpus / "EVTX-ATTACK-SAMPLES")], RunStats(), 100_000)
    finally:
        emu.close()
    cap = parallel.JOBS_PER_CORE * parallel.usable_cores()
    assert n > 8_000 and emu.notes == [f"--jobs 100000 lowered to {cap} ({parallel.JOBS_PER_CORE} per usable core)"]


def test_groups_are_contiguous_and_weigh_zip_members_unpacked(corpus: Path) -> None:
    files = sorted(str(p) for p in (corpus / "OTRF-Security-Datasets").rglob("*.zip"))
    units = parallel.plan_units(files)
    groups = parallel_load.group_units(units, 2)
    assert [u for g in groups for u in g] == units  # every unit once, in input order
    # the four zips are ~3 MB each on disk (one run by that measure) but 10-90 MB unpacked: a run or two each
    assert sum(os.path.getsize(f) for f in files) < parallel_load.MIN_GROUP_BYTES and len(groups) >= 3
    assert max(parallel_load._unpacked_size(f) for f in files) > 80_000_000
