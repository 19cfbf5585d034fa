"""report/escape.py: the one escaping function for terminal and CSV output."""

from __future__ import annotations

import pytest

from iisdetect.report.escape import csv_value, inert


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),
        ("a\nfake alert line\r", "a\\x0afake alert line\\x0d"),
        ("tab\there", "tab\\x09here"),
        ("\u202eexe.txt", "\\u202eexe.txt"),
        ("x\u2066y\u2069\u200b\u200f\u2028\u2029\x85", "x\\u2066y\\u2069\\u200b\\u200f\\u2028\\u2029\\x85"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("\ufeffbom", "\\ufeffbom"),
    ],
)
def test_controls_bidi_separators_and_surrogates_become_visible(raw, shown):
    out = inert(raw)
    assert out == shown
    out.encode("ascii")  # nothing left that a terminal would interpret


def test_ordinary_text_is_unchanged():
    for text in ("C:\\Windows\\System32\\inetsrv\\w3wp.exe", "café ü 日本", "a\\x1b literal"):
        assert inert(text) == text
    assert inert(None) == "" and inert(42) == "42"


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_formula_starts_are_neutralised(lead):
    cell = csv_value(f"{lead}2+3+cmd|' /C calc'!A0")
    assert cell.startswith("'") and "\t" not in cell and "\r" not in cell


def test_csv_keeps_numbers_and_plain_strings():
    assert csv_value(5) == 5 and csv_value(None) is None and csv_value("w3wp.exe") == "w3wp.exe"
    assert csv_value("a=b") == "a=b"  # only a leading trigger is a formula
