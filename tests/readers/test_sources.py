"""Paths, folders, containers, stdin, the ignored/failed scheme and up-front InputErrors."""

from __future__ import annotations

import gzip
import io
import sys
import zipfile

import pytest

from iisdetect.errors import InputError
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events, total_input_bytes

from .util import SHAPES, read_all

FLAT = (SHAPES / "events.flat.json").read_bytes()
XML = (SHAPES / "events_noroot.xml").read_bytes()


def fake_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("data", [FLAT, XML], ids=["ndjson", "xml"])
def test_stdin(monkeypatch, data):
    fake_stdin(monkeypatch, data)
    events, stats = read_all("-")
    assert [e.event_id for e in events] == [7, 4688, 29]
    assert {e.source for e in events} == {"-"} and stats.files == 1


def test_stdin_larger_than_the_sniff_head(monkeypatch):
    lines = FLAT.splitlines(keepends=True)
    data = b"".join(lines * 200)  # > 64 KiB: the head is replayed, nothing lost
    fake_stdin(monkeypatch, data)
    events, stats = read_all("-")
    assert len(events) == 600 and stats.records_skipped == 0


def test_stdin_unknown_format_is_an_input_error(monkeypatch):
    fake_stdin(monkeypatch, b"hello world\n")
    with pytest.raises(InputError, match="stdin"):
        read_all("-")


def test_missing_path_raises_before_any_event(tmp_path):
    stats = RunStats()
    it = iter_events([str(SHAPES / "events.flat.json"), str(tmp_path / "nope.evtx")], stats)
    with pytest.raises(InputError, match="nope.evtx: no such file"):
        next(it)
    assert stats.records_read == 0


def test_top_level_unknown_file_is_an_input_error(tmp_path):
    p = tmp_path / "notes.json"
    p.write_text('{"hello": 1}\n')
    with pytest.raises(InputError, match="unknown input format"):
        read_all(p)


def test_folder_walk_scheme(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_bytes(FLAT)
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "rules.yaml").write_text("title: x\n")
    (tmp_path / "broken.evtx").write_bytes(b"\x00garbage")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (tmp_path / "dangling.json").symlink_to(tmp_path / "missing-target")
    events, stats = read_all(tmp_path)
    assert len(events) == 3
    assert stats.files == 1 and stats.formats == {"flat-json": 1} and stats.files_ignored == 2  # README, rules.yaml
    assert stats.containers == 1 and stats.files_in_containers == 0  # bad.zip: found, broken, nothing in it
    assert stats.files_failed == 3
    failed = {s.source.rsplit("/", 1)[-1]: s.reason for s in stats.skips if s.locator == "file"}
    assert failed == {"broken.evtx": "unknown format", "bad.zip": "bad container", "dangling.json": "unreadable"}


def test_zip_gz_and_nested_containers(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("deep.xml", XML)
    outer = tmp_path / "bundle.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("dir/", "")
        zf.writestr("dir/flat.json", FLAT)
        zf.writestr("dir/flat2.json.gz", gzip.compress(FLAT))
        zf.writestr("nested.zip", inner.getvalue())
        zf.writestr("LICENSE", "MIT")
    gz = tmp_path / "events.xml.gz"
    gz.write_bytes(gzip.compress(XML))
    events, stats = read_all(outer, gz)
    assert len(events) == 12 and stats.records_skipped == 0
    assert sorted({e.source for e in events}) == sorted(
        {
            f"{outer}!dir/flat.json",
            f"{outer}!dir/flat2.json",
            f"{outer}!nested.zip!deep.xml",
            str(tmp_path / "events.xml"),
        }
    )
    assert stats.files == 4 and stats.formats == {"flat-json": 2, "xml": 2} and stats.files_ignored == 1  # LICENSE
    # bundle.zip and events.xml.gz; the zip and gzip inside bundle.zip are not counted again, their members are
    assert stats.containers == 2 and stats.files_in_containers == 4 + 1


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    data = gzip.compress(FLAT * 50)
    p = tmp_path / "cut.json.gz"
    p.write_bytes(data[: len(data) // 2])
    events, stats = read_all(tmp_path)
    assert 0 < len(events) < 150
    assert stats.files_failed == 1 and stats.skips[-1].reason == "read error"


def test_progress_and_total_bytes(tmp_path):
    (tmp_path / "a.json").write_bytes(FLAT)
    (tmp_path / "b.xml").write_bytes(XML)
    seen: list[int] = []
    stats = RunStats()
    events = list(iter_events([str(tmp_path)], stats, on_progress=seen.append))
    assert len(events) == 6
    assert sum(seen) == total_input_bytes([str(tmp_path)]) == len(FLAT) + len(XML)
    assert total_input_bytes(["-", str(tmp_path / "a.json")]) == len(FLAT)


def test_progress_inside_a_zip_is_smooth_and_exact(tmp_path):
    lines = FLAT.splitlines(keepends=True)
    payload = b"".join(line.replace(b'"Image"', b'"N%d":"x","Image"' % i) for i in range(3000) for line in lines)
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.json", payload)
    seen: list[int] = []
    stats = RunStats()
    n = sum(1 for _ in iter_events([str(z)], stats, on_progress=seen.append))
    assert n == 9000 and stats.records_skipped == 0
    assert sum(seen) == z.stat().st_size == total_input_bytes([str(z)])
    assert len(seen) > 5  # moved during the member, not once at the end


def test_gzip_on_stdin(monkeypatch):
    fake_stdin(monkeypatch, gzip.compress(XML))
    events, stats = read_all("-")
    assert [e.event_id for e in events] == [7, 4688, 29] and stats.files == 1


def test_folder_inside_walk_is_reported_when_unreadable(tmp_path, monkeypatch):
    import os

    (tmp_path / "a.json").write_bytes(FLAT)
    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top, **kw)

    monkeypatch.setattr(os, "walk", walk)
    events, stats = read_all(tmp_path)
    assert len(events) == 3 and stats.files_failed == 1
    assert stats.skips[0].source.endswith("locked") and stats.skips[0].reason == "unreadable"
