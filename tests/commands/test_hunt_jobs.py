"""``hunt --jobs``: auto only for large inputs, clamped (with a note) rather than forking thousands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.commands import hunt as hunt_cmd
from iisdetect.hunting import parallel
from tests.commands.test_hunt import evtx_json_line
from tests.helpers import image_load
from tests.readers.evtx_builder import evtx_file


def test_auto_jobs_use_usable_cores_for_large_input_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "a.evtx"
    small.write_bytes(evtx_file([2]))
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    assert hunt_cmd.choose_jobs(0, [str(small)]) == 1
    monkeypatch.setattr(hunt_cmd, "AUTO_PARALLEL_BYTES", 10)
    assert hunt_cmd.choose_jobs(0, [str(small)]) == 3
    assert hunt_cmd.choose_jobs(0, ["-"]) == 1  # stdin cannot be split
    assert hunt_cmd.choose_jobs(7, [str(small)]) == 7  # explicit: the hunt clamps it


def test_auto_jobs_keep_one_json_lines_file_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One NDJSON file is read faster by one process (docs/hunting.md); two files, or an EVTX, are not."""
    one = tmp_path / "a.jsonl"
    one.write_bytes(evtx_json_line(image_load(r"C:\Users\Public\x.dll"), 1) + b"\n")
    two = tmp_path / "b.jsonl"
    two.write_bytes(one.read_bytes())
    log = tmp_path / "c.evtx"
    log.write_bytes(evtx_file([2]))
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    monkeypatch.setattr(hunt_cmd, "AUTO_PARALLEL_BYTES", 10)
    assert hunt_cmd.choose_jobs(0, [str(one)]) == 1
    assert hunt_cmd.choose_jobs(2, [str(one)]) == 2  # asked for: it is split
    assert hunt_cmd.choose_jobs(0, [str(one), str(two)]) == 3
    assert hunt_cmd.choose_jobs(0, [str(tmp_path)]) == 3  # a folder of three files
    assert hunt_cmd.choose_jobs(0, [str(log)]) == 3
    assert hunt_cmd.choose_jobs(0, [str(log), str(tmp_path / "missing.jsonl")]) == 3  # reported by the hunt


def test_huge_jobs_is_lowered_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    lines = [evtx_json_line(image_load(rf"C:\Users\Public\{i}.dll"), i) for i in range(1, 41)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 1024)
    monkeypatch.setattr(parallel, "SLICE_BYTES", 4096)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 1)
    code = main(["hunt", str(path), "--ruleset", "seed", "--no-correlate", "--format", "json", "--jobs", "100000"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "--jobs 100000 lowered to 2 (2 per usable core)" in err
    doc = json.loads(out)
    assert len(doc["alerts"]) == 40
    assert "--jobs 100000 lowered to 2 (2 per usable core)" in doc["summary"]["notes"]


def test_negative_jobs_is_a_usage_error(capsys) -> None:
    assert main(["hunt", "x", "--jobs", "-1"]) != 0
    assert "--jobs must be 0" in capsys.readouterr().err
