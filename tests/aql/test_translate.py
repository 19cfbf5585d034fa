"""AQL -> DuckDB translation: exact SQL for the constructs, and their meaning on real rows."""

from __future__ import annotations

import pytest

from iisdetect.aql import Emulator, Options
from iisdetect.aql.errors import AqlSyntaxError, UnknownName
from tests.helpers import ev, file_create, image_load

T = "2024-05-02T10:15:30.123456Z"


@pytest.fixture(scope="module")
def emu():
    e = Emulator(options=Options())
    e.load([image_load(r"C:\Users\Public\a.dll")])
    e.prepare()
    yield e
    e.close()


@pytest.mark.parametrize(
    ("aql", "duckdb"),
    [
        ("SELECT username FROM events", 'SELECT "username" AS "username" FROM events'),
        ("SELECT \"Process Path\" AS 'Proc Path' FROM events", 'SELECT "Process Path" AS "Proc Path" FROM events'),
        ("select IMAGE from events", 'SELECT "Image" AS "Image" FROM events'),
        (
            "SELECT qid FROM events WHERE Image ILIKE '%\\w3wp.exe' AND NOT Details LIKE 'a_b'",
            'SELECT "qid" AS "qid" FROM events WHERE "Image" ILIKE \'%\\w3wp.exe\' AND NOT "Details" LIKE \'a_b\'',
        ),
        (
            "SELECT qid FROM events WHERE Image MATCHES '.*w3wp.*' OR Image IMATCHES 'X'",
            'SELECT "qid" AS "qid" FROM events WHERE REGEXP_FULL_MATCH("Image", '
            "'[^\\n\\r\\x{85}\\x{2028}\\x{2029}]*w3wp[^\\n\\r\\x{85}\\x{2028}\\x{2029}]*') "
            "OR REGEXP_FULL_MATCH(\"Image\", 'X', 'i')",
        ),
        (
            "SELECT qid FROM events WHERE qid IN (1, 2) AND qid BETWEEN 1 AND 5 AND sourceip IS NULL",
            'SELECT "qid" AS "qid" FROM events WHERE "qid" IN (1, 2) AND "qid" BETWEEN 1 AND 5 AND "sourceip" IS NULL',
        ),
        (
            'SELECT "Event ID", COUNT(*) AS n, UNIQUECOUNT(qid) FROM events GROUP BY "Event ID" '
            "HAVING COUNT(*) > 1 ORDER BY n DESC LIMIT 5",
            'SELECT "Event ID" AS "Event ID", COUNT(*) AS "n", COUNT(DISTINCT "qid") AS "UNIQUECOUNT(qid)" FROM events '
            'GROUP BY "Event ID" HAVING COUNT(*) > 1 ORDER BY "n" DESC LIMIT 5',
        ),
        ("SELECT STRLEN(Image) FROM events", 'SELECT LENGTH(CAST("Image" AS TEXT)) AS "STRLEN(Image)" FROM events'),
        ("SELECT 'O''Brien' FROM events", "SELECT 'O''Brien' AS \"'O''Brien'\" FROM events"),
        ("SELECT starttime/60000 AS m FROM events", 'SELECT "starttime" // 60000 AS "m" FROM events'),
        ("SELECT eventcount/2.5 AS m FROM events", 'SELECT "eventcount" / 2.5 AS "m" FROM events'),
    ],
)
def test_translation_pairs(emu: Emulator, aql: str, duckdb: str) -> None:
    assert emu.translate(aql)[0] == duckdb


def test_case_and_aliases_run(run) -> None:
    events = [image_load(r"C:\Users\Public\a.dll"), file_create(r"C:\inetpub\x.dll", r"C:\x\cmd.exe")]
    r = run(
        events,
        "SELECT CASE WHEN \"Event ID\" = '7' THEN 'load' WHEN \"Event ID\" = '11' THEN 'write' ELSE 'x' END "
        "AS 'kind', COUNT(*) AS n FROM events GROUP BY kind ORDER BY kind",
    )
    assert r.columns == ["kind", "n"]
    assert r.rows == [("load", 1), ("write", 1)]


def test_like_backslash_is_literal_by_default(run) -> None:
    events = [image_load(r"C:\Users\Public\a.dll")]
    single = "SELECT qid FROM events WHERE ImageLoaded ILIKE '%\\users\\%'"
    double = "SELECT qid FROM events WHERE ImageLoaded ILIKE '%\\\\users\\\\%'"
    assert len(run(events, single).rows) == 1
    assert run(events, double).rows == []  # two backslashes in a row: never in a Windows path
    assert len(run(events, double, backslash_escapes=True).rows) == 1
    # and the switch must not make a real double backslash disappear from single-backslash patterns
    assert len(run(events, single, backslash_escapes=True).rows) == 1


def test_like_wildcards_and_case(run) -> None:
    events = [image_load(r"C:\Users\Public\a.dll")]
    assert len(run(events, "SELECT qid FROM events WHERE ImageLoaded LIKE 'C:\\Users\\Public\\_.dll'").rows) == 1
    assert run(events, "SELECT qid FROM events WHERE ImageLoaded LIKE 'c:%'").rows == []  # LIKE is cased
    assert len(run(events, "SELECT qid FROM events WHERE ImageLoaded ILIKE 'c:%'").rows) == 1


def test_matches_is_whole_string(run) -> None:
    events = [image_load(r"C:\Users\Public\a.dll")]
    assert run(events, "SELECT qid FROM events WHERE ImageLoaded MATCHES 'Public'").rows == []
    assert len(run(events, "SELECT qid FROM events WHERE ImageLoaded MATCHES '.*Public.*'").rows) == 1
    assert run(events, "SELECT qid FROM events WHERE ImageLoaded MATCHES '.*public.*'").rows == []
    assert len(run(events, "SELECT qid FROM events WHERE ImageLoaded IMATCHES '.*public.*'").rows) == 1
    assert len(run(events, "SELECT qid FROM events WHERE ImageLoaded MATCHES 'Public'", matches_search=True).rows)


def _at(times: list[str]):
    return [ev(1, {"Image": f"p{i}.exe"}, time=t) for i, t in enumerate(times)]


def test_start_stop_minute_granularity(run) -> None:
    events = _at(
        [
            "2014-04-25T15:50:59.999000Z",  # before the START minute
            "2014-04-25T15:51:00.000000Z",  # START 15:51:20 rounds down to 15:51:00
            "2014-04-25T17:00:59.000000Z",  # STOP 17:00:20 includes its whole minute
            "2014-04-25T17:01:00.000000Z",  # after it
        ]
    )
    r = run(events, "SELECT Image FROM events START '2014-04-25 15:51:20' STOP '2014-04-25 17:00:20'")
    assert sorted(x[0] for x in r.rows) == ["p1.exe", "p2.exe"]
    # a STOP given to the minute is exclusive
    r = run(events, "SELECT Image FROM events START '2014-04-25 15:51' STOP '2014-04-25 17:00'")
    assert sorted(x[0] for x in r.rows) == ["p1.exe"]
    # epoch milliseconds too
    r = run(events, "SELECT Image FROM events START 1398441060000 STOP 1398444060000")
    assert sorted(x[0] for x in r.rows) == ["p1.exe"]


def test_last_is_relative_to_newest_event_by_default(run) -> None:
    events = _at(["2024-05-01T09:00:00.000000Z", "2024-05-02T08:00:00.000000Z", "2024-05-02T10:00:00.000000Z"])
    r = run(events, "SELECT Image FROM events LAST 2 HOURS")
    assert sorted(x[0] for x in r.rows) == ["p1.exe", "p2.exe"]
    assert r.now_source == "newest event"
    r = run(events, "SELECT Image FROM events last 1 days")
    assert sorted(x[0] for x in r.rows) == ["p1.exe", "p2.exe"]
    r = run(events, "SELECT Image FROM events LAST 30 MINUTES", now_ms=1714640400000 + 45 * 60_000)
    assert r.rows == [] and r.now_source == "--now"


def test_default_window_all_data_or_qradar_five_minutes(run) -> None:
    events = _at(["2024-05-02T09:00:00.000000Z", "2024-05-02T10:00:00.000000Z"])
    assert len(run(events, "SELECT Image FROM events").rows) == 2
    r = run(events, "SELECT Image FROM events", default_last_ms=5 * 60_000)
    assert [x[0] for x in r.rows] == ["p1.exe"]


def test_unknown_names_are_named(run) -> None:
    events = [image_load("x.dll")]
    with pytest.raises(UnknownName, match="'NoSuchField'"):
        run(events, 'SELECT "NoSuchField" FROM events')
    with pytest.raises(UnknownName, match="function 'FROBNICATE'"):
        run(events, "SELECT FROBNICATE(Image) FROM events")
    with pytest.raises(AqlSyntaxError):
        run(events, "SELECT FROM WHERE")


def test_event_id_is_a_string_property(run) -> None:
    events = [image_load("x.dll")]
    r = run(events, 'SELECT "EventID", "Event ID" FROM events WHERE "EventID" = \'7\'')
    assert r.rows == [("7", "7")]


def test_ibm_names_and_windows_names_are_both_columns(run) -> None:
    e = image_load(r"C:\Users\Public\a.dll", CommandLine="w3wp -ap x")
    r = run([e], 'SELECT "Process Path", Image, "File Path", ImageLoaded, Command, CommandLine FROM events')
    assert r.rows == [(e.data["Image"], e.data["Image"], e.data["ImageLoaded"], e.data["ImageLoaded"], "w3wp -ap x",
                       "w3wp -ap x")]  # fmt: skip


def test_known_fields_absent_from_data_are_null(run) -> None:
    r = run([image_load("x.dll")], 'SELECT TargetObject, Details, "Object Name" FROM events')
    assert r.rows == [(None, None, None)]


def test_flows_is_empty(run) -> None:
    assert run([image_load("x.dll")], "SELECT * FROM flows").rows == []


def test_group_by_alias_wins_over_a_column_of_that_name(run) -> None:
    """'Name' is also a Windows field column: GROUP BY name must mean the SELECT alias (AQL)."""
    events = [image_load("a.dll"), image_load("b.dll"), file_create(r"C:\inetpub\x.dll", "cmd.exe")]
    r = run(events, "SELECT QIDNAME(qid) AS name, COUNT(*) AS n FROM events GROUP BY name HAVING n > 1 ORDER BY n")
    assert r.rows == [("Image loaded", 2)]


def test_unknown_function_is_named_before_its_arguments(run) -> None:
    with pytest.raises(UnknownName, match="function 'foo'"):
        run([image_load("x.dll")], "SELECT foo(nosuchfield) FROM events")


@pytest.mark.parametrize("expr", ["Image::VARCHAR", "COALESCE(Image, 'x')", "TRIM(Image)"])
def test_sql_functions_that_are_not_aql_are_refused(run, expr: str) -> None:
    with pytest.raises(UnknownName, match="unknown function"):
        run([image_load("x.dll")], f"SELECT {expr} FROM events")
