"""Line, element and document limits in the JSON and XML readers (readers/limits.py LIMITS).

The limits moved out of readers/sources.py, which re-exports them: both names must be the one object
the readers read at call time, or a ``--limit`` (or a test setting ``sources.LIMITS``) reaches nobody.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap

import pytest

from iisdetect.readers import limits as limits_module
from iisdetect.readers import sources, streams

from .util import SHAPES, read_all

FLAT = (SHAPES / "events.flat.json").read_bytes()  # 3 events, one per line
XML = (SHAPES / "events_noroot.xml").read_bytes()


@pytest.fixture
def limits():
    saved = sources.Limits(**vars(sources.LIMITS))
    yield sources.LIMITS
    for k, v in vars(saved).items():
        setattr(sources.LIMITS, k, v)


def test_sources_re_exports_the_one_limits_object():
    assert sources.LIMITS is limits_module.LIMITS and streams.LIMITS is limits_module.LIMITS
    assert sources.LimitExceeded is limits_module.LimitExceeded and sources.Limits is limits_module.Limits
    assert sources.set_limit is limits_module.set_limit and sources.LimitedReader is streams.LimitedReader


def test_set_limit_is_seen_by_the_json_and_xml_readers(tmp_path, limits):
    line = FLAT.splitlines(keepends=True)[0]
    padded_line = line.replace(b"{", b'{"Pad": "' + b"A" * 20_000 + b'", ', 1)
    (tmp_path / "a.jsonl").write_bytes(line + padded_line)  # 2 events, the second 20 KB
    first, rest = XML.split(b"</Event>", 1)
    # the XML reader bounds an element still open after a 1 MiB read (xml.CHUNK): 2 MiB of padding
    padded = first.replace(b"</EventData>", b"<Data Name='Pad'>" + b"B" * (2 << 20) + b"</Data></EventData>")
    (tmp_path / "b.xml").write_bytes(first + b"</Event>\n" + padded + b"</Event>" + rest)  # 4 events, one 2 MiB
    events, stats = read_all(tmp_path)
    assert len(events) == 2 + 4 and stats.records_skipped == 0  # 64 MiB default: the long records are read
    limits_module.set_limit("max_line=10K")  # 10240 bytes: below both padded records, above every other one
    assert sources.LIMITS.max_line == 10240
    events, stats = read_all(tmp_path)
    assert len(events) == 1 + 3
    assert stats.skipped_by_reason == {"line too long": 1, "element too large": 1}


def test_set_limit_is_seen_by_a_decompressing_stream_opened_after_it(tmp_path, limits):
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(FLAT * 100))  # 300 events, 338,200 bytes decompressed
    events, stats = read_all(tmp_path / "a.jsonl.gz")
    assert len(events) == 300 and stats.files_failed == 0
    limits_module.set_limit("max_member=128K")  # past the 64 KiB head: the file is sniffed, then stopped
    events, stats = read_all(tmp_path / "a.jsonl.gz")
    assert stats.files_failed == 1 and stats.skips[0].reason == "limit exceeded"
    assert "max_member" in stats.skips[0].detail and len(events) < 300


def test_max_buffer_alias_reads_the_limit_live(limits):
    limits_module.set_limit("max_buffer=3M")
    assert sources.MAX_BUFFER == limits_module.MAX_BUFFER == 3 << 20


def test_a_line_over_max_line_is_dropped_while_streaming_and_counted(tmp_path, limits):
    limits.max_line = 10_000
    lines = FLAT.splitlines(keepends=True)
    data = lines[0] + b'{"EventID": 1, "x": "' + b"A" * 5_000_000 + b'"}\n' + b"".join(lines[1:])
    (tmp_path / "long.jsonl").write_bytes(data)
    events, stats = read_all(tmp_path / "long.jsonl")
    assert len(events) == 3 and stats.records_skipped == 1
    assert (stats.skips[0].locator, stats.skips[0].reason) == ("line 2", "line too long")
    assert [e.locator for e in events] == ["line 1", "line 3", "line 4"]  # numbering survives the drop


def test_long_last_line_without_newline(tmp_path, limits):
    limits.max_line = 2000  # the three event lines are shorter
    (tmp_path / "t.jsonl").write_bytes(FLAT + b"B" * 5000)
    events, stats = read_all(tmp_path / "t.jsonl")
    assert len(events) == 3 and stats.skipped_by_reason == {"line too long": 1}


def test_json_array_over_max_document_is_a_counted_failure(tmp_path, limits):
    limits.max_document = 1000
    (tmp_path / "a.json").write_bytes(b'[{"EventID": 1, "Channel": "x", "pad": "' + b"p" * 5000 + b'"}]')
    events, stats = read_all(tmp_path)
    assert events == [] and stats.files_failed == 1 and "max_document" in stats.skips[0].detail


def _bounded(code: str, cpu: int = 8) -> subprocess.CompletedProcess:
    prelude = f"import resource; resource.setrlimit(resource.RLIMIT_CPU, ({cpu}, {cpu}))\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, timeout=300)


def test_gzip_of_blank_lines_costs_little(tmp_path):
    """make_bombs.py's newline bomb, 16 Mi blank lines: 220 s for 64 Mi before (3.4 us each)."""
    path = tmp_path / "nl.jsonl.gz"
    path.write_bytes(gzip.compress(FLAT + b"\n" * (16 << 20), 9))
    proc = _bounded(
        f"""
        from iisdetect.model.stats import RunStats
        from iisdetect.readers import iter_events
        st = RunStats()
        print(sum(1 for _ in iter_events([{str(path)!r}], st)), st.records_skipped, st.files_failed)
        """
    )
    assert proc.returncode == 0, proc.stderr[-400:]
    assert proc.stdout.split() == [b"3", b"0", b"0"]


def test_unterminated_xml_element_is_linear_and_bounded(tmp_path):
    """make_bombs.py's unterminated <Event>: 128 MiB of text after it, then a good event."""
    first, rest = XML.split(b"</Event>", 1)
    path = tmp_path / "open.xml"
    with open(path, "wb") as fh:
        fh.write(first + b"</Event>\n<Event><System><EventID>1</EventID></System><EventData><Data Name='C'>")
        for _ in range(128):
            fh.write(b"A" * (1 << 20))
        fh.write(b"\n" + rest)
    proc = _bounded(
        f"""
        from iisdetect.model.stats import RunStats
        from iisdetect.readers import iter_events
        st = RunStats()
        n = sum(1 for _ in iter_events([{str(path)!r}], st))
        print(n, dict(st.skipped_by_reason))
        """
    )
    assert proc.returncode == 0, proc.stderr[-400:]
    assert proc.stdout.decode().strip() == "3 {'element too large': 1}"


def test_several_unterminated_elements_at_the_end_are_each_counted(tmp_path):
    text = XML + b"<Event><System>" * 4
    (tmp_path / "x.xml").write_bytes(text)
    events, stats = read_all(tmp_path / "x.xml")
    assert len(events) == 3 and stats.skipped_by_reason == {"bad xml": 4}
