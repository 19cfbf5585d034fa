"""Finding 12: attacker text stays inert on a terminal, in a pipe and in CSV (report/escape.py).

The reproducers put ANSI/OSC sequences (clear screen, window title, hyperlink), bidi overrides,
zero-width and separator characters, a newline followed by a fake alert line, and formula prefixes
into fields of events that fire rules.
"""

from __future__ import annotations

import csv
import io

import pytest

from .cli import run, run_pty

ATTACKS = [b"\x1b[2J", b"\x1b]0;pwned", b"\x1b]8;;http", b"\x1b[31mRED", b"\x07",
           "\u202e".encode(), "\u2066".encode(), "\u2028".encode(), "\u200b".encode()]  # fmt: skip
FAKE_LINE = b"\n  2024-05-03 02:41:41  low"


def _assert_inert(out: bytes) -> None:
    for seq in ATTACKS:
        assert seq not in out, seq
    assert FAKE_LINE not in out.replace(b"\r\n", b"\n")
    assert b"\\x1b[2J" in out  # the attack is shown, escaped, not dropped


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_hunt_output_is_inert_under_a_pty(hostile, fmt):
    code, out = run_pty(["hunt", "--format", fmt, str(hostile / "injection_hostile.evtx.jsonl")])
    assert code == 0
    _assert_inert(out)


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_hunt_output_is_inert_in_a_pipe(hostile, fmt):
    proc = run(["hunt", "--format", fmt, str(hostile / "injection_hostile.evtx.jsonl")])
    assert proc.returncode == 0
    _assert_inert(proc.stdout)
    assert b"\x1b" not in proc.stdout + proc.stderr  # no styling at all in a pipe


def test_aql_error_that_quotes_event_data_is_inert_under_a_pty(hostile):
    # DATEFORMAT of a text property makes DuckDB quote the value in its conversion error (a text
    # property compared with a number is a loose comparison, as in QRadar, so it no longer errors).
    query = "SELECT DATEFORMAT(\"Computer\", 'yyyy') FROM events"
    code, out = run_pty(["aql", query, str(hostile / "injection_hostile3.evtx.jsonl")])
    assert code == 2
    line = next(ln for ln in out.splitlines() if b"iisdetect: error:" in ln)
    assert b"\\x1b[2J" in line and b"\\x1b]0;pwned-title\\x07" in line
    _assert_inert(out)


def test_aql_table_and_csv_are_inert(hostile):
    path = str(hostile / "injection_hostile.evtx.jsonl")
    for fmt in ("table", "csv"):
        proc = run(["aql", "--format", fmt, 'SELECT "Computer", "CommandLine", username FROM events', path])
        assert proc.returncode == 0, proc.stderr
        _assert_inert(proc.stdout)


def test_csv_cells_starting_with_a_formula_trigger_are_quoted(hostile):
    proc = run(["hunt", "--format", "csv", str(hostile / "injection_hostile.evtx.jsonl")])
    rows = list(csv.DictReader(io.StringIO(proc.stdout.decode())))
    cells = [v for r in rows for v in r.values() if v]
    assert any("-2+3+cmd" in c for c in cells)
    assert "'-" in cells  # Sysmon's empty value (Signature "-") is neutralised too: OWASP's list, no exceptions
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")), c
