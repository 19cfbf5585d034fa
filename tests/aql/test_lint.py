"""--lint: no false findings on valid AQL, and the emulator's refusals flagged before running."""

from __future__ import annotations

import pytest

from iisdetect.aql.lint import lint


def kinds(query: str) -> dict[str, str]:
    return {f.kind: f.severity for f in lint(query)}


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM events WHERE devicetype = 433 LAST 1 HOURS",  # Microsoft 365 Defender (7.5.0 UP14)
        "SELECT * FROM events WHERE devicetype IN (12, 13, 4000) LAST 1 HOURS",
        "SELECT sourceip FROM events WHERE eventdirection = 'L2R' AND magnitude > 3 LAST 1 HOURS",
        "SELECT username FROM events WHERE username IN (SELECT username FROM events LIMIT 10 LAST 5 MINUTES) "
        "LAST 24 HOURS",
        "SELECT * FROM events WHERE TEXT SEARCH 'x' ORDER BY sourceip DESC COLLATE 'de-CH' LAST 1 HOURS",
    ],
)
def test_no_false_findings(query: str) -> None:
    assert lint(query) == []


def test_now_is_information_not_a_warning() -> None:
    found = kinds("SELECT * FROM events WHERE starttime > NOW() - 3600000")
    assert found == {"not-ibm-function": "info", "no-time-clause": "info"}


def test_unknown_log_source_type_still_flagged() -> None:
    assert kinds("SELECT * FROM events WHERE devicetype = 1011 LAST 1 HOURS")["unknown-log-source-type"] == "error"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FROM events PARAMETERS EXCLUDESERVERS=x", "PARAMETERS"),
        ("SELECT ASSETUSER(sourceip) FROM events LAST 1 HOURS", "ASSETUSER"),
        ("SELECT * FROM events WHERE username MATCHES 'a(?=b)' LAST 1 HOURS", "lookahead"),
        ("SELECT DATEFORMAT(starttime, 'yyyy Q') FROM events LAST 1 HOURS", "'Q'"),
    ],
)
def test_unsupported_constructs_are_flagged(query: str, message: str) -> None:
    found = [f for f in lint(query) if f.kind == "unsupported"]
    assert found and found[0].severity == "error" and message in found[0].message
