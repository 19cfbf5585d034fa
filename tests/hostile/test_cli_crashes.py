"""Item 2 of issue 15: no single record or argument kills a run; each case is one line or a counted skip.

Run through the real CLI in a child process, because they concern stdout, stdin, pipes and exit codes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .cli import ENV, run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EX = str(EXAMPLES)


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("iisdetect: error:")]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "name",
    [
        "aql_bigrid.evtx.jsonl",
        "aql_empty_fieldname.evtx.jsonl",
        "aql_rid63.xml",
        "aql_year9999.xml",
        "pretty_lone_surrogate.json",
    ],  # fmt: skip
)
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_hostile_records_do_not_crash_aql(hostile, name, fmt):
    proc = run(["aql", "--format", fmt, 'SELECT qid, "EventRecordID", starttime, username FROM events',
                str(hostile / name)])  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()[-400:]
    assert b"Traceback" not in proc.stderr and b"row(s)" in proc.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "ndjson", "csv"])
def test_lone_surrogate_in_every_hunt_format(hostile, fmt):
    proc = run(["hunt", "--format", fmt, str(hostile / "pretty_lone_surrogate.json")])
    assert proc.returncode == 0, proc.stderr.decode()[-400:]
    assert b"IIS_Dir_DLL_Write" in proc.stdout and b"surrogate" in proc.stderr  # said, not silent


def test_deep_json_path_and_stdin_are_one_line(hostile):
    one_line_error(run(["hunt", str(hostile / "deep_min.json")]), "unknown input format")
    one_line_error(run(["hunt", "-"], stdin=(hostile / "deep_min.json").read_bytes()), "stdin")


def test_dev_full_is_one_line():
    one_line_error(run(["hunt", "-o", "/dev/full", EX]), "No space left")
    one_line_error(run(["aql", "-o", "/dev/full", "SELECT qid FROM events", EX]), "No space left")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "iisdetect", "hunt", "--format", "json", EX], stdout=full,
                              stderr=subprocess.PIPE, env=ENV, timeout=120)  # fmt: skip
    one_line_error(proc, "No space left")


def test_closed_stdout_and_stdin_are_one_line():
    proc = subprocess.run([sys.executable, "-m", "iisdetect", "hunt", EX], stderr=subprocess.PIPE, env=ENV,
                          preexec_fn=lambda: os.close(1), timeout=120)  # fmt: skip
    one_line_error(proc, "closed")
    proc = subprocess.run([sys.executable, "-m", "iisdetect", "hunt", "-"], capture_output=True, env=ENV,
                          preexec_fn=lambda: os.close(0), timeout=120)  # fmt: skip
    one_line_error(proc, "stdin")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_non_utf8_stdout(hostile, encoding):
    env = {**ENV, "PYTHONIOENCODING": encoding}
    env.pop("PYTHONUTF8")
    for args in (["hunt", str(hostile / "injection_hostile3.evtx.jsonl")],
                 ["hunt", "--format", "csv", str(hostile / "injection_hostile3.evtx.jsonl")],
                 ["aql", "SELECT * FROM events", EX]):  # fmt: skip
        proc = run(args, env=env)
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()[-300:]


@pytest.mark.parametrize("fmt", ["table", "ndjson", "csv", "json"])
def test_head_dash_1_keeps_the_summary_and_exits_quietly(fmt):
    proc = subprocess.run(
        f"{sys.executable} -m iisdetect hunt --format {fmt} {EX} | head -c 40 >/dev/null",
        shell=True, stderr=subprocess.PIPE, env=ENV, timeout=120,
    )  # fmt: skip
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "records:" in err  # the accounting still reaches the user


@pytest.mark.parametrize(
    "args",
    [
        ["--window", "99999999999d"],
        ["--last", "99999999999d"],
        ["--last", "999999999d", "--now", "now"],
        ["--since", "0001-01-01T00:00:00+14:00"],
        ["--since", "9999-12-31T23:59:59-14:00"],
    ],  # fmt: skip
)
def test_huge_time_arguments(args):
    proc = run(["hunt", *args, EX])
    err = proc.stderr.decode()
    assert "Traceback" not in err and proc.returncode in (0, 2), err
    if proc.returncode == 2:
        one_line_error(proc)


def test_corrupt_or_missing_db(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not duckdb")
    one_line_error(run(["aql", "--db", str(bad), "SELECT qid FROM events"]), "--db")
    one_line_error(run(["aql", "--db", str(tmp_path / "no" / "x.db"), "SELECT qid FROM events", EX]), "--db")


def test_user_rule_with_a_numeric_id_is_a_warning(tmp_path):
    rule = tmp_path / "r.yml"
    rule.write_text("title: t\nid: 1\nlogsource: {product: windows}\ndetection: {s: {CommandLine: x}, condition: s}\n")
    proc = run(["hunt", "--rules", str(rule), EX])
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert b"rule 't' skipped" in proc.stderr


def test_non_utf8_scenario_file(tmp_path):
    (tmp_path / "x.yaml").write_bytes(b"id: x\nname: \xe9\n")
    proc = run(["simulate", "--scenario-dir", str(tmp_path), "--all", "-o", str(tmp_path / "out")])
    assert b"Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr.decode()[-300:]


def test_qradar_mapping_with_an_empty_export_section(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("export:\n")
    for args in (["aql", "--qradar-mapping", str(m), "SELECT qid FROM events", EX],
                 ["export", "--target", "qradar", "--qradar-mapping", str(m)]):  # fmt: skip
        proc = run(args)
        assert b"Traceback" not in proc.stderr, proc.stderr.decode()[-300:]
        assert proc.returncode in (0, 2)


def test_aql_query_file_dev_zero_binary_and_deep_queries(tmp_path):
    one_line_error(run(["aql", "--file", "/dev/zero", EX]), "aql_query_bytes")
    (tmp_path / "q").write_bytes(b"\x8d\xff\x00")
    one_line_error(run(["aql", "--file", str(tmp_path / "q"), EX]), "not UTF-8")
    deep = "SELECT qid FROM events WHERE " + "(" * 300 + "1=1" + ")" * 300
    one_line_error(run(["aql", deep, EX]), "aql_nesting")
    ors = "SELECT qid FROM events WHERE " + " OR ".join(f"qid = {i}" for i in range(1000))
    proc = run(["aql", ors, EX])
    assert b"Traceback" not in proc.stderr and proc.returncode in (0, 2)
    concat = "CONCAT(" + ", ".join(['"Image"'] * 255) + ")"
    concat = "CONCAT(" + ", ".join([concat] * 255) + ")"  # the finding's 522 KB query, one level more (2 MB)
    (tmp_path / "bomb.aql").write_text("SELECT STRLEN(CONCAT(" + ", ".join([concat] * 2) + ")) FROM events")
    one_line_error(run(["aql", "--file", str(tmp_path / "bomb.aql"), EX]), "aql_query_bytes")


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "timesketch"])
def test_a_streamed_run_cut_by_head_still_counts_everything(fmt):
    """--no-correlate streams alerts as they fire: a closed pipe stops the writing, not the run."""
    examples = str(Path(__file__).resolve().parents[2] / "examples")
    full = subprocess.run([sys.executable, "-m", "iisdetect", "hunt", "--no-correlate", "--format", "ndjson", examples],
                          capture_output=True, env=ENV, timeout=120)  # fmt: skip
    want = next(ln for ln in full.stderr.decode().splitlines() if ln.startswith("records:"))
    proc = subprocess.run(
        f"{sys.executable} -m iisdetect hunt --no-correlate --format {fmt} {examples} | head -c 100 >/dev/null",
        shell=True, stderr=subprocess.PIPE, env=ENV, timeout=120,
    )  # fmt: skip
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert want in err.splitlines()  # the same accounting as the uncut run
    assert "output closed by its reader" in err
