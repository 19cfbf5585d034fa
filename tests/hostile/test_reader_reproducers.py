"""Findings 2, 5, 11: the text-format reproducers are read to the end and every record is accounted."""

from __future__ import annotations

from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events

from .cli import run


def _read(path):
    stats = RunStats()
    return list(iter_events([str(path)], stats)), stats


def test_utf16_with_an_odd_trailing_byte_loses_no_decode_block(hostile):
    """4,040 records then a lone byte: 50 records of the last 64 K-character block used to vanish."""
    events, stats = _read(hostile / "utf16_odd_trailing_byte.jsonl")
    assert stats.records_read == len(events) == 4039
    assert stats.records_read + stats.records_skipped == 4040  # the last line carries the broken byte
    assert stats.skips[0].locator == "line 4040" and any("U+FFFD" in w for w in stats.warnings)


def test_dtd_in_the_middle_is_refused_and_reading_goes_on(hostile):
    events, stats = _read(hostile / "xml_dtd_midfile.xml")
    text = (hostile / "xml_dtd_midfile.xml").read_bytes()
    assert stats.skipped_by_reason["unsafe xml"] == 1 and "DTDForbidden" in stats.skips[0].detail
    assert len(events) == text.count(b"<Event>") + text.count(b"<Event ")  # every element after it is read


def test_lone_surrogate_record_is_read_and_made_encodable(hostile):
    events, stats = _read(hostile / "pretty_lone_surrogate.json")
    assert len(events) == 1 and stats.records_skipped == 0
    assert "\ufffd" in events[0].data["TargetFilename"]
    events[0].data["TargetFilename"].encode("utf-8")


def test_deep_json_inside_a_folder_is_a_counted_failure(hostile, tmp_path):
    (tmp_path / "deep.json").write_bytes((hostile / "deep_min.json").read_bytes())
    events, stats = _read(tmp_path)
    assert events == [] and stats.files_failed == 1 and stats.skips[0].reason == "unknown format"


def test_tuning_alias_bomb_through_the_cli(hostile):
    proc = run(["hunt", "--tuning", str(hostile / "tuning_alias_bomb.yaml"), "-"], stdin=b"{}\n")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err and "alias bomb" in err and len(err) < 400
