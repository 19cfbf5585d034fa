"""model.times: the one parser/formatter of times and the one duration grammar every command uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from iisdetect.cli import main
from iisdetect.errors import UsageError
from iisdetect.model.times import (
    aql_last,
    format_iso,
    iso_ms,
    ms_to_iso,
    normalise_time,
    parse_duration,
    parse_instant,
    parse_time,
    to_datetime,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2021-03-14T01:40:19.7023456Z", "2021-03-14T01:40:19.702345Z"),
        ("2021-03-14 01:40:19.702", "2021-03-14T01:40:19.702000Z"),
        ("2021-03-14T03:40:19+02:00", "2021-03-14T01:40:19.000000Z"),
        (1615686019, "2021-03-14T01:40:19.000000Z"),
        (1615686019702, "2021-03-14T01:40:19.702000Z"),
        ("2021-02-30T00:00:00Z", ""),
        ("garbage", ""),
        (None, ""),
    ],
)
def test_normalise_time(raw: object, canonical: str) -> None:
    assert normalise_time(raw) == canonical
    if canonical:
        assert format_iso(parse_time(canonical)) == canonical


def test_formatters() -> None:
    dt = datetime(2026, 11, 20, 10, 15, 30, 123456, tzinfo=UTC)
    assert format_iso(dt) == "2026-11-20T10:15:30.123456Z"
    assert format_iso(dt, 3) == "2026-11-20T10:15:30.123Z"
    assert format_iso(dt, 0) == "2026-11-20T10:15:30Z"
    assert iso_ms("2026-11-20T10:15:30.123456Z") == "2026-11-20T10:15:30.123Z"
    assert ms_to_iso(0) == "1970-01-01 00:00:00.000Z" and ms_to_iso(None) == "-"
    assert ms_to_iso(2**63) == "-"


@pytest.mark.parametrize(("text", "td"), [("30m", timedelta(minutes=30)), ("24h", timedelta(hours=24)),
                                          ("7 days", timedelta(days=7)), ("2w", timedelta(weeks=2))])  # fmt: skip
def test_parse_duration(text: str, td: timedelta) -> None:
    assert parse_duration(text) == td


@pytest.mark.parametrize("text", ["", "2x", "0m", "-1h", "99999999999999d", "999999999w"])
def test_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_aql_last_uses_the_largest_exact_unit() -> None:
    assert aql_last(timedelta(weeks=2)) == "14 DAYS"
    assert aql_last(timedelta(hours=36)) == "36 HOURS"
    assert aql_last(timedelta(minutes=90)) == "90 MINUTES"


def test_instants() -> None:
    assert parse_instant("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert to_datetime(date(2024, 5, 1), "x") == datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match="x: 'soon'"):
        to_datetime("soon", "x")


def test_hunt_and_export_share_the_duration_grammar(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--target", "qradar", "--ruleset", "seed", "--last", "2w"]) == 0
    assert "LAST 14 DAYS" in capsys.readouterr().out
    assert main(["export", "--target", "qradar", "--ruleset", "seed", "--last", "2x"]) == 2
    assert "bad duration '2x'" in capsys.readouterr().err
