"""``iisdetect hunt`` end to end through the CLI: formats, accounting, errors, hostile text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest

from iisdetect.cli import main
from tests.helpers import file_create, image_load, registry_set


def evtx_json_line(event, record: int) -> bytes:
    """The evtx_dump / pyevtx nested JSON shape for a canonical test event."""
    return orjson.dumps(
        {
            "Event": {
                "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                "System": {
                    "Provider": {
                        "#attributes": {"Name": event.provider, "Guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}
                    },
                    "EventID": event.event_id,
                    "TimeCreated": {"#attributes": {"SystemTime": event.time_created}},
                    "EventRecordID": record,
                    "Channel": event.channel,
                    "Computer": event.computer,
                    "Security": {"#attributes": {"UserID": "S-1-5-18"}},
                },
                "EventData": event.data,
            }
        }
    )


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    events = [
        image_load(r"C:\Users\Public\evil.dll"),  # seed: IIS_Non_Standard_Module_Load
        file_create(r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\drop.exe"),  # seed: IIS_Dir_DLL_Write
        registry_set(r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs", r"C:\x\f.dll"),
        image_load(r"C:\Windows\System32\inetsrv\defdoc.dll"),  # benign
    ]
    lines = [evtx_json_line(e, i + 1) for i, e in enumerate(events)]
    lines.insert(2, b'{"Event": {"System": ')  # a damaged line in the middle
    path = tmp_path / "sysmon.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_has_seed_columns_and_accounting(capsys, logs: Path) -> None:
    code, out, err = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "json", "--no-correlate")
    assert code == 0
    doc = json.loads(out)
    types = sorted(a["detection_type"] for a in doc["alerts"])
    assert types == ["IIS_Component_Registration", "IIS_Dir_DLL_Write", "IIS_Non_Standard_Module_Load"]
    load = next(a for a in doc["alerts"] if a["detection_type"] == "IIS_Non_Standard_Module_Load")
    assert load["loaded_dll"] == r"C:\Users\Public\evil.dll"
    assert load["initiating_process"].endswith("w3wp.exe")
    assert load["event_time"] == "2024-05-02 10:15:30"
    assert load["EventID"] == "7" and load["level"] == "high" and load["source"] == str(logs)
    summary = doc["summary"]
    assert summary["records_read"] == 4 and summary["records_skipped"] == 1
    assert summary["skips"][0]["locator"] == "line 3"
    assert "records: 5 seen, 4 read, 1 skipped" in err
    assert "alerts: 3" in err


def test_csv_and_ndjson(capsys, logs: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "a.csv"
    code, _, _ = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "csv", "-o", str(out_file))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert len(rows) == 3 and {r["EventID"] for r in rows} == {"7", "11", "13"}
    code, out, _ = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "ndjson", "--no-correlate")
    kinds = [json.loads(line)["type"] for line in out.splitlines()]
    assert kinds == ["alert"] * 3 + ["summary"]  # the summary line says the stream is complete


def test_time_window_options(capsys, logs: Path) -> None:
    code, out, err = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "json", "--since", "2024-05-03")
    assert code == 0
    assert json.loads(out).get("alerts", []) == [] and "4 outside the time window" in err
    code, out, _ = run(
        capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "json", "--last", "1h", "--no-correlate"
    )
    assert len(json.loads(out)["alerts"]) == 3  # --last is relative to the newest event read


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hunt", "/nonexistent/path.evtx"], "/nonexistent/path.evtx"),
        (["hunt", "X", "--last", "yesterday"], "bad duration"),
        (["hunt", "X", "--since", "tuesday"], "bad time"),
        (["hunt", "X", "--format", "xml"], "invalid choice"),
        (["hunt", "X", "--tuning", "/nonexistent.yaml"], "tuning file not found"),
        (["hunt", "X", "--no-ruleset"], "--no-ruleset needs"),
        # no prefix guessing: --scenario is not --scenario-dir, --form is not --format
        (["validate", "--scenario", "rgdoor_native_module"], "unrecognized arguments: --scenario"),
        (["hunt", "X", "--form", "json"], "unrecognized arguments: --form"),
    ],
)
def test_bad_arguments_one_line_exit_2(capsys, argv: list[str], message: str) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_hostile_fields_are_data_in_the_table(capsys, tmp_path: Path) -> None:
    evil = image_load("C:\\Users\\Public\\[red]x[/red]\x1b[2J\x1b]0;pwn\x07.dll")
    path = tmp_path / "e.jsonl"
    path.write_bytes(evtx_json_line(evil, 1) + b"\n")
    code, out, _ = run(capsys, "hunt", str(path), "--ruleset", "seed")
    assert code == 0
    assert "[red]x[/red]" in out  # markup printed literally, not interpreted
    assert "\x1b" not in out and "\\x1b[2J" in out  # escape sequences neutralised


def test_user_rules_and_unsupported_rule_warning(capsys, logs: Path, tmp_path: Path) -> None:
    rule = tmp_path / "mine.yml"
    rule.write_text(
        "title: My w3wp public-folder load\n"
        "id: 0d3b2b6e-8a83-4c55-9a51-2d0d5e0b8f11\n"
        "logsource: {product: windows, category: image_load}\n"
        "detection:\n  sel:\n    ImageLoaded|startswith: 'C:\\Users\\Public\\'\n  condition: sel\n"
        "level: low\ndetection_type: My_Type\n"
    )
    (tmp_path / "kw.yml").write_text(
        "title: Keyword rule\nid: 1d3b2b6e-8a83-4c55-9a51-2d0d5e0b8f12\n"
        "logsource: {product: windows, category: image_load}\n"
        "detection:\n  kw: ['evil']\n  condition: kw\nlevel: low\n"
    )
    code, out, err = run(
        capsys, "hunt", str(logs), "--no-ruleset", "--rules", str(tmp_path), "--format", "json", "--no-correlate"
    )
    assert code == 0
    alerts = json.loads(out)["alerts"]
    assert [(a["detection_type"], a["loaded_dll"]) for a in alerts] == [("My_Type", r"C:\Users\Public\evil.dll")]
    assert "warning:" in err and "Keyword rule" in err and "keyword" in err


def test_streamed_ndjson_and_csv_equal_the_collected_alerts(capsys, logs: Path) -> None:
    """--no-correlate with ndjson/csv writes alerts as they fire; the rows are the same as collected ones."""
    _, out, _ = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "json", "--no-correlate")
    collected = json.loads(out)["alerts"]
    _, out, err = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "ndjson", "--no-correlate")
    streamed = [json.loads(line) for line in out.splitlines()]
    assert streamed[-1]["type"] == "summary" and streamed[-1]["alerts"] == 3
    assert [{k: v for k, v in r.items() if k != "type"} for r in streamed[:-1]] == collected
    assert "alerts: 3 " in err  # the summary counts streamed alerts too
    _, out, _ = run(capsys, "hunt", str(logs), "--ruleset", "seed", "--format", "csv", "--no-correlate")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["loaded_dll"] or r["file_path"] or r["registry_key"] for r in rows] == [
        c["loaded_dll"] or c["file_path"] or c["registry_key"] for c in collected
    ]


def test_api_sink_keeps_nothing_and_refuses_correlation(logs: Path) -> None:
    from iisdetect.errors import UsageError
    from iisdetect.hunting.run import HuntOptions, hunt

    seen = []
    result = hunt(
        HuntOptions(
            paths=[str(logs)],
            ruleset="seed",
            correlate_window=None,
            sink=lambda a, entry: seen.append((a.detection_type, entry)),
        )
    )
    assert result.alerts == [] and len(seen) == 3 and all(e is None for _, e in seen)
    assert sum(result.stats.alerts_by_type.values()) == 3
    with pytest.raises(UsageError):
        hunt(HuntOptions(paths=[str(logs)], ruleset="seed", sink=lambda a, e: None))
