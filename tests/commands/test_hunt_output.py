"""hunt's output guarantees: atomic -o, zero records, table width and truncation marks, selection, duplicates."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from iisdetect.cli import main
from tests.commands.test_hunt import evtx_json_line
from tests.helpers import ev, file_create, image_load


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    long_cmd = r"C:\Windows\System32\inetsrv\appcmd.exe install module /name:Evil /image:C:\x\evil.dll " + "A" * 3000
    events = [
        ev(
            1,
            {
                "Image": r"C:\Windows\System32\inetsrv\appcmd.exe",
                "CommandLine": long_cmd,
                "ParentImage": r"C:\Windows\System32\cmd.exe",
                "User": "CORP\\admin",
                "IntegrityLevel": "High",
            },
            computer="WEB02.corp.local",
            time="2024-05-02T10:20:00.000000Z",
        ),
        image_load(r"C:\Users\Public\evil.dll", Signed="false", SignatureStatus="Unavailable"),
        file_create(r"C:\Windows\System32\inetsrv\=evil.dll", r"C:\Users\Public\drop.exe"),
    ]
    path = tmp_path / "logs" / "a.jsonl"
    path.parent.mkdir()
    path.write_bytes(b"\n".join(evtx_json_line(e, 100 + i) for i, e in enumerate(events)) + b"\n")
    return path


def test_output_file_is_replaced_only_when_the_run_succeeds(capsys, logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert run(capsys, "hunt", str(logs), "--format", "json", "-o", str(out))[0] == 0
    good = out.read_text()
    assert json.loads(good)["alerts"]
    code, _, err = run(capsys, "hunt", str(tmp_path / "missing.evtx"), "--format", "json", "-o", str(out))
    assert code == 2 and "no such file" in err
    assert out.read_text() == good  # the earlier result is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "result.json"]  # no temporary left behind
    assert os.stat(out).st_mode & 0o777 != 0o600 or os.umask(0o022) is None


def test_zero_records_says_so_and_exits_3(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "collection"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here\n")
    code, out, err = run(capsys, "hunt", str(folder))
    assert code == 3
    assert "No records read" in out and "No alerts." not in out
    assert "no records read: nothing was searched (exit code 3)" in err


def test_table_follows_width_and_marks_truncation(capsys, logs: Path) -> None:
    code, out, _ = run(capsys, "hunt", str(logs), "--width", "80")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "chars]" in out and "… [+" in out  # the 3000-character command line is cut, visibly
    code, _, err = run(capsys, "hunt", str(logs), "--width", "10")
    assert code == 2 and "--width" in err


def test_no_correlate_table_shows_host_in_time_order(capsys, logs: Path) -> None:
    _, out, _ = run(capsys, "hunt", str(logs), "--no-correlate", "--width", "200")
    lines = [line for line in out.splitlines() if " EID " in line]
    assert [("WEB02" in line, "WEB01" in line) for line in lines] == [(False, True)] * 2 + [(True, False)]
    times = [line.split()[0] + " " + line.split()[1] for line in lines]
    assert times == sorted(times)


def test_files_never_truncate_and_csv_cells_are_defused(capsys, logs: Path) -> None:
    _, out, _ = run(capsys, "hunt", str(logs), "--format", "csv", "--no-correlate")
    rows = list(csv.DictReader(io.StringIO(out)))
    cmd = next(r for r in rows if r["EventID"] == "1")
    assert cmd["evidence.command_line"].endswith("A" * 3000) and cmd["CommandLine"].endswith("A" * 3000)
    assert cmd["EventRecordID"] == "100" and cmd["position"] == "line 1" and cmd["evidence.kind"] == "process_creation"
    assert json.loads(cmd["event_data"])["IntegrityLevel"] == "High"
    write = next(r for r in rows if r["EventID"] == "11")
    assert write["evidence.target_filename"] == r"C:\Windows\System32\inetsrv\=evil.dll"
    _, out, _ = run(capsys, "hunt", str(logs), "--format", "json", "--no-correlate")
    assert any(a["evidence"].get("command_line", "").endswith("A" * 3000) for a in json.loads(out)["alerts"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"IIS_Module_Registration_Command", "IIS_Untrusted_Module_Load", "IIS_Dir_DLL_Write"}),
        (["--min-level", "high"], set()),  # these three rules are medium; the high ones do not fire here
        (
            ["--min-level", "medium"],
            {"IIS_Module_Registration_Command", "IIS_Untrusted_Module_Load", "IIS_Dir_DLL_Write"},
        ),
        (["--tags", "t1505.004", "--rule-id", "a3754a8f-7153-487a-9db6-c789b2ac483c"], {"IIS_Untrusted_Module_Load"}),
        (
            ["--status", "experimental,test"],
            {"IIS_Module_Registration_Command", "IIS_Untrusted_Module_Load", "IIS_Dir_DLL_Write"},
        ),
    ],
)
def test_rule_selection(capsys, logs: Path, argv: list[str], expected: set[str]) -> None:
    code, out, _ = run(capsys, "hunt", str(logs), "--format", "json", "--no-correlate", *argv)
    doc = json.loads(out)
    assert code == 0 and {a["detection_type"] for a in doc["alerts"]} == expected
    if argv:
        assert doc["summary"]["rule_selection"] != {"min_level": None, "statuses": [], "tags": [], "rule_ids": []}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--status", "stable"], "leaves no rule"),
        (["--status", "bogus"], "--status 'bogus'"),
        (["--rule-id", "no-such-rule"], "leaves no rule"),
    ],
)
def test_rule_selection_errors(capsys, logs: Path, argv: list[str], message: str) -> None:
    code, _, err = run(capsys, "hunt", str(logs), *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_duplicate_events_across_files_counted_once(capsys, logs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "vss" / "a.jsonl"
    copy.parent.mkdir()
    shutil.copy(logs, copy)
    _, out, _ = run(capsys, "hunt", str(logs), "--format", "json", "--no-correlate")
    once = json.loads(out)["alerts"]
    code, out, err = run(capsys, "hunt", str(logs.parent), str(copy.parent), "--format", "json", "--no-correlate")
    doc = json.loads(out)
    assert code == 0 and len(doc["alerts"]) == len(once)
    summary = doc["summary"]
    assert summary["records_read"] == 6 and summary["duplicate_events"] == 3
    assert {d["source"] for d in summary["duplicates"]} == {str(copy)}
    assert sorted(d["EventRecordID"] for d in summary["duplicates"]) == [100, 101, 102]
    assert "duplicates: 3 event(s)" in err


def test_summary_names_tool_rules_inputs_and_time_anchor(capsys, logs: Path) -> None:
    _, out, _ = run(capsys, "hunt", str(logs), "--format", "json", "--last", "1h")
    s = json.loads(out)["summary"]
    assert s["tool"]["name"] == "iisdetect" and s["tool"]["version"]
    assert [r["name"] for r in s["rulesets"]] == ["iis"] and len(s["rulesets"][0]["sha256"]) == 64
    assert s["inputs"] == [str(logs)]
    assert s["time"]["last"] == "1h" and s["time"]["anchor"] == "newest event read"
    assert s["time"]["newest_event"] == "2024-05-02T10:20:00.000Z"
    assert s["time"]["window"][0] == "2024-05-02T09:20:00.000Z"


def test_hostile_host_name_in_the_no_correlate_table(capsys, tmp_path: Path) -> None:
    evil = image_load(r"C:\Users\Public\x.dll")
    evil.computer = "WEB\x1b[31mRED\x1b[0m[bold]01"
    path = tmp_path / "e.jsonl"
    path.write_bytes(evtx_json_line(evil, 1) + b"\n")
    code, out, _ = run(capsys, "hunt", str(path), "--no-correlate")
    assert code == 0 and "\x1b" not in out and "WEB\\x1b[31mRED" in out and "[bold]01" in out


def test_export_and_aql_output_files_are_atomic_too(capsys, tmp_path: Path, logs: Path) -> None:
    target = tmp_path / "q.aql"
    target.write_text("old query\n")
    code, _, err = run(capsys, "export", "--target", "qradar", "--rules", str(tmp_path / "nope.yml"), "-o", str(target))
    assert code == 2 and target.read_text() == "old query\n"
    assert run(capsys, "export", "--target", "qradar", "--ruleset", "seed", "-o", str(target))[0] == 0
    assert target.read_text().startswith("SELECT")
    rows = tmp_path / "rows.csv"
    code, _, _ = run(
        capsys, "aql", "SELECT QIDNAME(qid) AS n FROM events", str(logs), "--format", "csv", "-o", str(rows)
    )
    assert code == 0 and rows.read_text().splitlines()[0] == "n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_duplicates_not_looked_for_in_one_plain_file_or_on_request(capsys, logs: Path, tmp_path: Path) -> None:
    twice = tmp_path / "twice.jsonl"
    twice.write_bytes(logs.read_bytes() * 2)  # one file cannot repeat another: memory stays flat
    _, out, _ = run(capsys, "hunt", str(twice), "--format", "json", "--no-correlate")
    s = json.loads(out)["summary"]
    assert s["duplicates_checked"] is False and s["duplicate_events"] == 0 and s["alerts"] == 6
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(logs, copy / "a.jsonl")
    _, out, _ = run(capsys, "hunt", str(logs), str(copy), "--format", "json", "--no-correlate", "--keep-duplicates")
    s = json.loads(out)["summary"]
    assert s["duplicates_checked"] is False and s["duplicate_events"] == 0 and s["alerts"] == 6


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_decoy_with_the_same_record_id_does_not_hide_the_real_event(capsys, tmp_path: Path, jobs: str) -> None:
    """Same host, channel, record id and time but other content is another event (a forged or cleared log)."""
    t = "2024-05-02T10:15:00.214000Z"
    decoy = image_load(r"C:\Windows\System32\inetsrv\iiscore.dll", time=t, Signed="true", SignatureStatus="Valid")
    real = image_load(r"C:\Users\Public\evil.dll", time=t, Signed="false", SignatureStatus="Unavailable")
    for name, event in (("a", decoy), ("b", real), ("c", real)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.jsonl").write_bytes(evtx_json_line(event, 4242) + b"\n")
    paths = [str(tmp_path / n) for n in "abc"]
    code, out, _ = run(capsys, "hunt", *paths, "--format", "json", "--no-correlate", "--jobs", jobs)
    doc = json.loads(out)
    assert code == 0
    assert [(a["rule_id"], a["loaded_dll"]) for a in doc["alerts"]] == [
        ("a3754a8f-7153-487a-9db6-c789b2ac483c", r"C:\Users\Public\evil.dll")
    ]
    s = doc["summary"]
    assert s["records_read"] == 3 and s["duplicate_events"] == 1  # the true copy (c) is still a repeat
    assert [d["source"] for d in s["duplicates"]] == [str(tmp_path / "c" / "x.jsonl")]
