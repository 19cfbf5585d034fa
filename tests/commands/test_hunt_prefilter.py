"""``hunt`` says what it skipped before decoding, and ``--no-prefilter`` decodes everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main

PANACHE = "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"


def _hunt(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    assert main(["hunt", "--format", "json", "--no-progress", *args]) == 0
    out = capsys.readouterr()
    return json.loads(out.out), out.err


def test_summary_counts_skipped_records(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus / PANACHE)
    doc, err = _hunt([path], capsys)
    s = doc["summary"]
    assert s["records_read"] == s["records_decoded"] + s["routed_away"] + s["prefiltered"]
    assert s["routed_away"] > 0 and s["prefiltered"] > 0 and s["records_decoded"] < s["records_read"] // 4
    assert "routed away" in err and "prefiltered" in err
    plain, err = _hunt(["--no-prefilter", path], capsys)
    p = plain["summary"]
    assert (p["routed_away"], p["prefiltered"], p["records_decoded"]) == (0, 0, p["records_read"])
    assert "prefiltered" not in err
    assert doc["alerts"] and doc["alerts"] == plain["alerts"]
    assert doc["incidents"] == plain["incidents"]


def test_last_without_now_decodes_every_record(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc, _ = _hunt(["--last", "1h", str(corpus / PANACHE)], capsys)
    assert doc["summary"]["routed_away"] == doc["summary"]["prefiltered"] == 0  # the anchor needs every time


@pytest.mark.parametrize("line", [b'{"not": "an event"}', b'{"winlog": {"channel": "Security"}}'])
def test_a_line_that_is_no_event_is_reported_not_prefiltered(
    line: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate may only skip what is an event record: anything else still owes a 'not an event' skip."""
    from tests.commands.test_hunt import evtx_json_line
    from tests.helpers import image_load

    path = tmp_path / "mixed.jsonl"
    path.write_bytes(evtx_json_line(image_load(r"C:\Windows\System32\inetsrv\iiscore.dll"), 7) + b"\n" + line + b"\n")
    code = main(["hunt", "--ruleset", "seed", "--format", "json", "--no-progress", str(path)])
    s = json.loads(capsys.readouterr().out)["summary"]
    assert code == 0 and s["skipped_by_reason"] == {"not an event": 1}
    assert s["records_read"] == 1 and s["records_read"] == s["records_decoded"] + s["routed_away"] + s["prefiltered"]
