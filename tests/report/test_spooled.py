"""``hunt`` written from the alert spool (report/spooled.py) is byte-identical to the in-memory renderers.

The CLI (``iisdetect hunt ... -o FILE``) now always spools for these formats; the reference is the
same run kept in memory (``HuntOptions.spool`` off) and rendered by ``commands.hunt._render``.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from iisdetect.cli import build_parser, main
from iisdetect.commands import hunt as cmd
from iisdetect.hunting.run import hunt
from tests.helpers import EXAMPLES

FORMATS = ("table", "json", "ndjson", "csv", "timesketch", "navigator")
OPTIONS = (
    [],
    ["--no-correlate"],
    ["--tuning", str(EXAMPLES / "tuning.example.yaml"), "--show-suppressed"],
    ["--last", "20m"],
    ["--window", "5m", "--width", "60"],
)


def in_memory(argv: list[str]) -> str:
    args = build_parser().parse_args(["hunt", *argv])
    opts = cmd.options_from(args)
    result = hunt(opts)
    assert result.spooled is None
    buf = io.StringIO()
    cmd._render(args, result, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--all", "-o", str(out), "--no-truth"]) == 0
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("extra", OPTIONS, ids=["default", "no-correlate", "suppressed", "last", "window"])
def test_cli_output_is_identical(tmp_path: Path, simulated: Path, fmt: str, extra: list[str]) -> None:
    argv = [str(simulated), str(EXAMPLES), "--format", fmt, "--no-progress", *extra]
    out = tmp_path / f"out.{fmt}"
    assert main(["hunt", *argv, "-o", str(out)]) == 0
    expected = in_memory(argv)
    assert len(expected) > 500
    assert out.read_text(encoding="utf-8") == expected


def test_json_document_parses_and_counts(tmp_path: Path, simulated: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["hunt", str(simulated), "--format", "json", "-o", str(out), "--no-progress"]) == 0
    doc = orjson.loads(out.read_bytes())
    assert list(doc) == ["format", "format_version", "alerts", "incidents", "suppressed", "summary"]
    assert len(doc["alerts"]) == doc["summary"]["alerts"] == sum(i["alert_count"] for i in doc["incidents"])
    assert doc["suppressed"] == []


def test_no_alerts_and_no_records(tmp_path: Path) -> None:
    quiet = tmp_path / "q.jsonl"
    quiet.write_text(
        '{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "H1", '
        '"TimeCreated": "2024-01-01T00:00:00Z", "Image": "C:\\\\Windows\\\\notepad.exe"}\n'
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, code in ((quiet, 0), (empty, 3)):
        for fmt in FORMATS:
            argv = [str(path), "--format", fmt, "--no-progress"]
            out = tmp_path / f"o.{fmt}"
            assert main(["hunt", *argv, "-o", str(out)]) == code
            assert out.read_text(encoding="utf-8") == in_memory(argv)


def test_parallel_workers_feed_the_spool(tmp_path: Path, simulated: Path) -> None:
    """``--jobs 2``: hits from worker processes go to the spool like those of one process."""
    argv = [str(simulated), "--format", "ndjson", "--no-progress", "--jobs", "2"]
    out = tmp_path / "p.ndjson"
    assert main(["hunt", *argv, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == in_memory(argv)
