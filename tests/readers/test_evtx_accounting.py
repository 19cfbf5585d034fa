"""EVTX per-chunk accounting on files the project builds itself (tests/readers/evtx_builder.py).

Each damage mirrors one class of ../shared/reference/hostile-inputs.md finding 1, so the error paths
are tested without the corpus: records in the file = records read + records skipped, with the chunk
and its offset named.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

from iisdetect.model.stats import RunStats
from iisdetect.readers import evtx as evtx_reader

from . import evtx_builder as b
from .util import read_all

PER_CHUNK = [12, 9, 11]  # records 1-12, 13-21, 22-32
TOTAL = sum(PER_CHUNK)


def _run(tmp_path, data: bytes, name: str = "built.evtx"):
    path = tmp_path / name
    path.write_bytes(data)
    events, stats = read_all(path)
    return events, stats


def test_clean_built_file_reads_every_record_and_reports_nothing(tmp_path):
    events, stats = _run(tmp_path, b.evtx_file(PER_CHUNK, free_chunks=3))
    assert [e.record_id for e in events] == list(range(1, TOTAL + 1))
    assert stats.records_skipped == 0 and stats.warnings == [] and stats.formats == {"evtx": 1}
    assert events[0].data["CommandLine"] == "appcmd.exe list modules /n:1"


def test_zeroed_chunk_counts_the_records_it_held(tmp_path):
    data = b.damage(b.evtx_file(PER_CHUNK, 2), b.chunk_offset(1), bytes(b.CHUNK))
    events, stats = _run(tmp_path, data)
    assert len(events) == 12 + 11 and stats.records_seen == TOTAL
    [skip] = stats.skips
    assert (skip.locator, skip.reason, skip.count) == ("chunk 1 (offset 69632)", "evtx chunk error", 9)
    assert "records 13-21" in skip.detail


def test_lowered_free_space_offset_is_not_silent(tmp_path):
    data = b.damage(b.evtx_file(PER_CHUNK), b.chunk_offset(1) + 48, struct.pack("<I", 512))
    events, stats = _run(tmp_path, data)
    assert stats.records_seen == TOTAL and stats.records_skipped > 0
    assert stats.skips[0].locator == "chunk 1 (offset 69632)" and "of records 13-21 not read" in stats.skips[0].detail


def test_zeroed_record_magic_loses_the_rest_of_the_chunk_counted(tmp_path):
    data = b.evtx_file(PER_CHUNK)
    third = data.index(b"\x2a\x2a\x00\x00", b.chunk_offset(0) + 512 + 1)  # record 2
    third = data.index(b"\x2a\x2a\x00\x00", third + 1)  # record 3
    events, stats = _run(tmp_path, b.damage(data, third, bytes(4)))
    assert [e.record_id for e in events][:3] == [1, 2, 13]
    assert stats.records_seen == TOTAL and stats.skips[0].count == 10 and stats.skips[0].locator.startswith("chunk 0 ")


def test_truncated_file_counts_the_partial_chunk_and_the_missing_tail(tmp_path):
    data = b.evtx_file(PER_CHUNK)[: b.chunk_offset(1) + 3000]  # chunk 1 cut, chunk 2 gone
    events, stats = _run(tmp_path, data)
    assert stats.records_seen == TOTAL  # the clean file header still says next record id 33
    assert stats.skipped_by_reason["evtx truncated"] == TOTAL - len(events)
    assert any(s.locator == "chunks 2-2 (offset 135168)" for s in stats.skips)


def test_bad_record_is_one_skip_and_not_counted_twice(tmp_path):
    data = b.evtx_file(PER_CHUNK)
    at = data.index("EventID".encode("utf-16-le"))
    data = b.damage(data, at, "EventXX".encode("utf-16-le"))  # record 1 has no EventID now
    events, stats = _run(tmp_path, data)
    assert len(events) == TOTAL - 1 and stats.records_skipped == 1
    assert (stats.skips[0].locator, stats.skips[0].reason) == ("record 1", "bad record")


def test_same_counts_from_gzip_zip_and_stdin_streams(tmp_path, monkeypatch):
    import sys

    data = b.damage(b.evtx_file(PER_CHUNK, 1), b.chunk_offset(1), bytes(b.CHUNK))
    (tmp_path / "a.evtx.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as zf:
        zf.writestr("in/b.evtx", data)
    events, stats = read_all(tmp_path / "a.evtx.gz", tmp_path / "b.zip")
    assert len(events) == 2 * 23 and stats.skipped_by_reason == {"evtx chunk error": 18}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    events, stats = read_all("-")
    assert len(events) == 23 and stats.records_skipped == 9


def test_chunk_range_read_reports_only_its_own_chunks_with_absolute_numbers(tmp_path):
    path = tmp_path / "x.evtx"
    path.write_bytes(b.damage(b.evtx_file(PER_CHUNK, 1), b.chunk_offset(1), bytes(b.CHUNK)))
    totals = []
    for first in range(4):
        stats = RunStats()
        n = sum(1 for _ in evtx_reader.read(str(path), "x.evtx", stats, first_chunk=first, chunk_limit=1))
        totals.append((n, stats.records_skipped, [s.locator for s in stats.skips]))
    assert totals == [(12, 0, []), (0, 9, ["chunk 1 (offset 69632)"]), (11, 0, []), (0, 0, [])]


def test_parser_that_keeps_failing_gives_up_on_the_chunk_and_counts_it(tmp_path, monkeypatch):
    class Broken:
        def __iter__(self):
            return self

        def __next__(self):
            raise RuntimeError("Failed to parse record: same thing again")

    class Parser:
        def records_json(self):
            return Broken()

    monkeypatch.setattr(evtx_reader, "open_parser", lambda image: Parser())
    events, stats = _run(tmp_path, b.evtx_file([4]))
    assert events == [] and stats.records_skipped == 4
    assert "gave up on the chunk" in stats.skips[0].detail and stats.skips[0].reason == "evtx record error"


def _damaged_files() -> dict[str, bytes]:
    """Built files with each kind of damage a range must judge as the whole file does."""
    clean = b.evtx_file(PER_CHUNK * 3, free_chunks=2)  # 9 chunks of records, then 2 free chunks
    bad = b"NotChnk\x00"
    return {
        "zeroed middle": b.damage(clean, b.chunk_offset(4), bytes(b.CHUNK)),
        "two bad middle": b.damage(b.damage(clean, b.chunk_offset(3), bad), b.chunk_offset(4), bad),
        "bad first": b.damage(clean, b.chunk_offset(0), bad),
        "bad last records": b.damage(b.evtx_file(PER_CHUNK * 3), b.chunk_offset(8), bad),
        "bad tail before free space": b.damage(clean, b.chunk_offset(8), bad),
        "truncated": b.evtx_file(PER_CHUNK * 3)[: b.chunk_offset(7) + 5000],
        "header claims more": b.file_header(12, TOTAL * 3 + 1) + b.evtx_file(PER_CHUNK * 3)[b.HEADER :],
        # a wrapped (circular) log: the newest records sit in the first chunks, and the file ends in a
        # damaged chunk after older ones, so only the whole file's newest id tells what it lost
        "wrapped, bad tail": b.file_header(6, 61)
        + b.chunk(41, 10)
        + b.chunk(51, 10)
        + b.chunk(1, 10)
        + b.chunk(11, 10)
        + b.chunk(21, 10)
        + b.damage(b.chunk(31, 10), 0, bad),
    }


def _outcome(path, first: int | None = None, count: int | None = None):
    stats = RunStats()
    ids = [e.record_id for e in evtx_reader.read(str(path), "x.evtx", stats, first_chunk=first or 0, chunk_limit=count)]
    return ids, [(s.locator, s.reason, s.count) for s in stats.skips]


def test_chunk_ranges_together_give_the_whole_files_records_and_losses(tmp_path):
    """Every way of cutting a damaged file into ranges (1, 2, 3, 4 chunks) reads and reports exactly what
    one read of the whole file does: a range looks only at its neighbours, yet judges the same."""
    from pathlib import Path

    files = dict(_damaged_files())
    hostile = Path(__file__).resolve().parents[3] / "shared" / "hostile-inputs"
    for p in sorted(hostile.glob("evtx_*.evtx")):  # ../shared/hostile-inputs, where present
        files[p.name] = p.read_bytes()
    assert len(files) >= (14 if hostile.is_dir() else 8)
    for name, data in files.items():
        path = tmp_path / "x.evtx"
        path.write_bytes(data)
        whole_ids, whole_skips = _outcome(path)
        total = evtx_reader.chunk_count(str(path))
        for size in (1, 2, 3, 4):
            ids, skips = [], []
            for first in range(0, total, size):
                got_ids, got_skips = _outcome(path, first, size)
                ids += got_ids
                skips += got_skips
            assert ids == whole_ids, (name, size)
            assert sorted(skips) == sorted(whole_skips), (name, size)
