"""JSON-lines loop: bad lines are counted with their line number, the file goes on."""

from __future__ import annotations

import json

from .util import read_all

GOOD = {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "h", "Image": "a.exe"}


def line(**kw) -> str:
    return json.dumps({**GOOD, **kw}) + "\n"


def test_truncated_line_and_garbage_are_counted(tmp_path):
    p = tmp_path / "x.json"
    text = line() + line()[:30] + "\n" + "\n" + "\x00\x01\xff garbage\n" + '"just a string"\n' + line(EventID=2)
    p.write_bytes(text.encode("utf-8", "surrogateescape"))
    events, stats = read_all(p)
    assert [e.event_id for e in events] == [1, 2]
    assert [(s.locator, s.reason) for s in stats.skips] == [
        ("line 2", "bad json"),
        ("line 4", "bad json"),
        ("line 5", "not an event"),
    ]
    assert [e.locator for e in events] == ["line 1", "line 6"]
    assert stats.records_read == 2 and stats.records_skipped == 3


def test_record_that_cannot_be_normalised_is_a_bad_record(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(line() + line(EventID="not-a-number") + line(EventID=3))
    events, stats = read_all(p)
    assert [e.event_id for e in events] == [1, 3]
    assert [(s.locator, s.reason) for s in stats.skips] == [("line 2", "bad record")]
    assert "ValueError" in stats.skips[0].detail


def test_json_array_file(tmp_path):
    p = tmp_path / "arr.json"
    p.write_text("  [" + json.dumps(GOOD) + ", 5, " + json.dumps({**GOOD, "EventID": 2}) + "]")
    events, stats = read_all(p)
    assert [e.event_id for e in events] == [1, 2] and [e.locator for e in events] == ["item 1", "item 3"]
    assert [(s.locator, s.reason) for s in stats.skips] == [("item 2", "not an event")]


def test_broken_json_array_is_one_counted_skip(tmp_path):
    p = tmp_path / "arr.json"
    p.write_text("[" + json.dumps(GOOD) + ", {")
    events, stats = read_all(p)
    assert events == [] and [(s.locator, s.reason) for s in stats.skips] == [("file", "bad json")]


def test_utf16_ndjson(tmp_path):
    p = tmp_path / "ps.json"
    p.write_bytes(("\ufeff" + line() + line(EventID=2, Image="é.exe")).encode("utf-16-le"))
    events, stats = read_all(p)
    assert [e.data["Image"] for e in events] == ["a.exe", "é.exe"] and stats.records_skipped == 0


def test_pretty_printed_evtx_dump_output(tmp_path):
    from .util import SHAPES

    objs = [json.loads(x) for x in (SHAPES / "events.evtx.jsonl").read_text().splitlines()]
    text = "".join(f"Record {i}\n{json.dumps(o, indent=2)}\n" for i, o in enumerate(objs, 1))
    p = tmp_path / "dump.json"
    p.write_text(text)
    events, stats = read_all(p)
    assert [e.event_id for e in events] == [7, 4688, 29] and stats.formats == {"evtx-json": 1}
    starts = [i for i, ln in enumerate(text.splitlines(), 1) if ln == "{"]
    assert [e.locator for e in events] == [f"line {n}" for n in starts]


def test_pretty_printed_objects_without_headers_then_broken(tmp_path):
    p = tmp_path / "pretty.json"
    p.write_text("\n" + json.dumps(GOOD, indent=1) + "\n" + json.dumps(GOOD, indent=1)[:-3])
    events, stats = read_all(p)
    assert len(events) == 1 and [(s.reason, s.locator) for s in stats.skips] == [("bad json", f"line {2 + 6}")]


def test_impossible_time_keeps_the_event_with_unknown_time(tmp_path):
    """A damaged timestamp must not drop the event nor reach parse_time() later (events.py fix)."""
    p = tmp_path / "t.json"
    p.write_text(
        line(TimeCreated="2024-13-45T00:00:00Z")
        + line(TimeCreated="2023-02-29 10:00:00")
        + line(TimeCreated="2024-01-01T25:00:00+02:00")
        + line(TimeCreated="2024-02-29T10:00:00Z")
    )
    events, stats = read_all(p)
    assert stats.records_skipped == 0
    assert [e.time_created for e in events] == ["", "", "", "2024-02-29T10:00:00.000000Z"]
    assert [e.timestamp.year for e in events] == [1, 1, 1, 2024]


class _Range:
    """A byte range of NDJSON lines, as ``hunting/parallel.py`` hands one to a reader."""

    def __init__(self, data: bytes, first_line: int) -> None:
        import io

        self._buf = io.BytesIO(data)
        self.iisdetect_first_line = first_line

    def read1(self, n: int = -1) -> bytes:
        return self._buf.read(n)

    read = read1


def test_a_line_range_keeps_absolute_line_numbers_and_skips_shape_detection():
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import flat_json

    # a lone "{" first would make a whole file "pretty-printed objects"; inside a range it is a bad line
    data = ("{\n" + line(EventID=5) + "\n" + line(EventID=6)).encode()
    stats = RunStats()
    events = list(flat_json.read(_Range(data, 1001), "big.json", stats))
    assert [(e.event_id, e.locator) for e in events] == [(5, "line 1002"), (6, "line 1004")]
    assert [(s.locator, s.reason) for s in stats.skips] == [("line 1001", "bad json")]
    assert stats.records_read == 2


def test_line_numbers_count_a_long_run_of_leading_blank_lines():
    """Blank blocks read past before the first record still count (a --jobs range counts them too).
    The reader is called directly: the format sniffer already refuses a head that is all blank."""
    import io

    from iisdetect.model.stats import RunStats
    from iisdetect.readers import flat_json

    stats = RunStats()
    blank = 3 << 20  # more than one 1 MiB read
    events = list(flat_json.read(io.BytesIO(b"\n" * blank + (line() + "not json\n").encode()), "x", stats))
    assert [e.locator for e in events] == [f"line {blank + 1}"]
    assert [(s.locator, s.reason) for s in stats.skips] == [(f"line {blank + 2}", "bad json")]
