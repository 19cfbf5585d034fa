"""tar, tar.gz/tgz, bz2, xz containers (in folders too), limits on bombs, special files.

Issue 11 item 5 and issue 15 item 3: every container is opened in place by content, never silently
ignored, and under the same limits (readers/limits.py ``LIMITS``, docs/limits.md).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import threading
import zipfile
import zlib

import pytest

from iisdetect.readers import sources

from .util import SHAPES, read_all

FLAT = (SHAPES / "events.flat.json").read_bytes()  # 3 events
XML = (SHAPES / "events_noroot.xml").read_bytes()  # 3 events


def _tar(members: dict[str, bytes], mode: str = "w") -> bytes:
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return bio.getvalue()


@pytest.fixture
def limits():
    saved = sources.Limits(**vars(sources.LIMITS))
    yield sources.LIMITS
    for k, v in vars(saved).items():
        setattr(sources.LIMITS, k, v)


def test_every_container_kind_in_a_folder(tmp_path):
    tar = _tar({"logs/a.json": FLAT, "logs/b.xml": XML, "README.md": b"notes"})
    (tmp_path / "plain.tar").write_bytes(tar)
    (tmp_path / "c.tar.gz").write_bytes(gzip.compress(tar))
    (tmp_path / "d.tgz").write_bytes(gzip.compress(tar))
    (tmp_path / "e.json.bz2").write_bytes(bz2.compress(FLAT))
    (tmp_path / "f.xml.xz").write_bytes(lzma.compress(XML))
    (tmp_path / "g.tar.xz").write_bytes(lzma.compress(tar))
    events, stats = read_all(tmp_path)
    assert len(events) == 4 * 6 + 3 + 3 and stats.records_skipped == 0 and stats.files_failed == 0
    sources_seen = {e.source for e in events}
    assert str(tmp_path / "c.tar.gz") + "!logs/a.json" not in sources_seen  # gzip layer named as such
    assert str(tmp_path / "c.tar") + "!logs/a.json" in sources_seen
    assert str(tmp_path / "d.tar") + "!logs/b.xml" in sources_seen
    assert str(tmp_path / "e.json") in sources_seen and str(tmp_path / "f.xml") in sources_seen
    assert stats.files_ignored == 4  # the README in each of the 4 tars: counted, not silent
    assert stats.formats == {"flat-json": 4 + 1, "xml": 4 + 1} and stats.files == 10  # a.json, b.xml per tar
    assert stats.containers == 6 and stats.files_in_containers == 10 + 4  # every file came out of one


def test_containers_on_stdin_are_streamed(monkeypatch):
    import sys

    for blob in (gzip.compress(_tar({"x.json": FLAT})), bz2.compress(FLAT), lzma.compress(XML)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(blob)))
        events, stats = read_all("-")
        assert len(events) == 3 and stats.files_failed == 0


def test_corrupt_gzip_with_an_undescriptive_name_is_a_read_error_not_ignored(tmp_path, hostile_dir):
    """Reproducer export_corrupt.gz: the inner name 'export_corrupt' promises nothing, the stream breaks."""
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "export_corrupt.gz").write_bytes((hostile_dir / "export_corrupt.gz").read_bytes())
    _, stats = read_all(tmp_path / "x")
    assert stats.files_failed == 1 and stats.files_ignored == 0 and stats.files == 0
    assert stats.skips[0].reason == "read error" and "EOFError" in stats.skips[0].detail


def test_expansion_ratio_stops_a_gzip_bomb_and_keeps_what_came_before(tmp_path, limits):
    limits.ratio_floor = 1 << 20
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = co.compress(FLAT) + co.compress(b"\n" * (64 << 20)) + co.flush()  # 64 MiB of blank lines
    (tmp_path / "bomb.jsonl.gz").write_bytes(blob)
    events, stats = read_all(tmp_path)
    assert len(events) == 3 and stats.files_failed == 1
    assert stats.skips[0].reason == "limit exceeded" and "max_ratio" in stats.skips[0].detail


def test_member_size_limit_in_a_zip(tmp_path, limits):
    limits.max_member = 100_000
    with zipfile.ZipFile(tmp_path / "z.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.json", FLAT * 1000)
        zf.writestr("small.json", FLAT)
    events, stats = read_all(tmp_path / "z.zip")
    assert stats.files_failed == 1 and "max_member" in stats.skips[0].detail
    assert {e.source.rsplit("!", 1)[1] for e in events} >= {"small.json"}  # the next member is read


def test_nesting_depth_limit(tmp_path, limits):
    limits.max_depth = 2
    blob = FLAT
    for level in range(4):
        bio = io.BytesIO()
        with zipfile.ZipFile(bio, "w") as zf:
            zf.writestr(f"l{level}.zip" if level else "e.json", blob)
        blob = bio.getvalue()
    (tmp_path / "deep.zip").write_bytes(blob)
    events, stats = read_all(tmp_path / "deep.zip")
    assert events == [] and stats.files_failed == 1
    assert stats.skips[0].reason == "limit exceeded" and "max_depth 2" in stats.skips[0].detail


def test_nested_stored_zip_is_bounded_by_the_buffer_limit(tmp_path, limits):
    limits.max_buffer = 1 << 20
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pad.bin", b"Z" * (2 << 20))
        zf.writestr("good.json", FLAT)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("l0.zip", inner.getvalue())
        zf.writestr("after.json", FLAT)
    (tmp_path / "n.zip").write_bytes(outer.getvalue())
    events, stats = read_all(tmp_path / "n.zip")
    assert len(events) == 3 and stats.files_failed == 1 and "max_buffer" in stats.skips[0].detail


def test_fifo_and_symlink_in_a_folder_are_skipped_and_counted_not_blocking(tmp_path):
    (tmp_path / "a.json").write_bytes(FLAT)
    os.mkfifo(tmp_path / "b_pipe.jsonl")
    os.symlink(tmp_path / "b_pipe.jsonl", tmp_path / "c_link.json")
    result: dict = {}

    def walk():
        result["events"], result["stats"] = read_all(tmp_path)

    t = threading.Thread(target=walk, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "a FIFO in a folder blocked the walk"
    assert len(result["events"]) == 3 and result["stats"].files_failed == 2
    assert all("FIFO" in s.detail for s in result["stats"].skips)


def test_fifo_named_on_the_command_line_is_read_once_like_stdin(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as fh:
            fh.write(FLAT * 30_000)  # > the 64 KiB head: the head is replayed

    threading.Thread(target=writer, daemon=True).start()
    events, stats = read_all(fifo)
    assert len(events) == 90_000 and stats.records_skipped == 0


def test_tar_links_and_devices_are_counted_not_followed(tmp_path):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as tf:
        link = tarfile.TarInfo("etc_passwd.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        info = tarfile.TarInfo("ok.json")
        info.size = len(FLAT)
        tf.addfile(info, io.BytesIO(FLAT))
    (tmp_path / "t.tar").write_bytes(bio.getvalue())
    events, stats = read_all(tmp_path / "t.tar")
    assert len(events) == 3 and stats.files_failed == 1 and "not followed" in stats.skips[0].detail


def test_set_limit_parses_units_and_refuses_nonsense(limits):
    sources.set_limit("max_line=2M")
    assert limits.max_line == 2 << 20
    for bad in ("nope=1", "max_line=", "max_line=x", "max_line=0"):
        with pytest.raises(ValueError, match="--limit"):
            sources.set_limit(bad)
