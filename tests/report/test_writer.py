"""The shared writer: atomic replacement, no temporary left on failure, escaping helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisdetect.errors import UsageError
from iisdetect.report.writer import csv_cell, open_output, safe


def test_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), open_output(str(target)) as out:
        out.write("half a result")
        raise RuntimeError("crash mid-run")
    assert target.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["out.json"]
    with open_output(str(target)) as out:
        out.write("new\n")
    assert target.read_text() == "new\n"


def test_unwritable_targets_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="it is a folder"), open_output(str(tmp_path)):
        pass
    with pytest.raises(UsageError, match="cannot write"), open_output(str(tmp_path / "no" / "such" / "x")):
        pass


def test_escaping_helpers() -> None:
    assert safe("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07" and safe(None) == ""
    assert [csv_cell(v) for v in ("=1+1", "+x", "@SUM(A1)", "-cmd /c calc", "-", "-5", "plain", 3)] == [
        "'=1+1", "'+x", "'@SUM(A1)", "'-cmd /c calc", "'-", "'-5", "plain", 3]  # fmt: skip
