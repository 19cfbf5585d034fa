"""Each supported AQL function, checked on a row whose values we know."""

from __future__ import annotations

import pytest

from iisdetect.aql.dates import dateformat_sql
from tests.helpers import SECURITY, ev, image_load

E = image_load(r"C:\Users\Public\evil.dll")
assert E.time_created == "2024-05-02T10:15:30.123456Z"


def one(run, expr: str, events=None, **kw):
    r = run(events or [E], f"SELECT {expr} AS v FROM events", **kw)
    assert len(r.rows) == 1
    return r.rows[0][0]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd HH:mm:ss", "2024-05-02 10:15:30"),
        ("yyyy-MM-dd hh:mm a", "2024-05-02 10:15 AM"),
        ("MMM dd yyyy", "May 02 2024"),
        ("dd/MM/yy HH:mm:ss.SSS", "02/05/24 10:15:30.123"),
        ("yyyy-MM-dd''T''HH:mm", "2024-05-02T10:15"),  # AQL doubles quotes in strings
    ],
)
def test_dateformat(run, pattern: str, expected: str) -> None:
    assert one(run, f"DATEFORMAT(starttime, '{pattern}')") == expected


def test_java_pattern_rejects_unknown_letters() -> None:
    with pytest.raises(Exception, match="unsupported pattern letter 'Q'"):
        dateformat_sql("yyyy Q", "0")


def test_lookups(run) -> None:
    assert one(run, "LOGSOURCENAME(logsourceid)") == "Microsoft-Windows-Sysmon/Operational @ WEB01.corp.local"
    assert one(run, "LOGSOURCETYPENAME(devicetype)") == "Microsoft Windows Security Event Log"
    assert one(run, "QIDNAME(qid)") == "Image loaded"
    assert one(run, "CATEGORYNAME(category)") == "System Status"  # IBM's low-level 8006
    assert one(run, "CATEGORYNAME(highlevelcategory)") == "System"


def test_unlisted_event_gets_a_synthetic_qid_with_a_name(run) -> None:
    e = ev(4999, {"X": "1"}, log=SECURITY)
    assert one(run, "QIDNAME(qid)", [e]) == "Microsoft-Windows-Security-Auditing 4999"


def test_string_functions(run) -> None:
    assert one(run, "LOWER(ImageLoaded)") == r"c:\users\public\evil.dll"
    assert one(run, "UPPER(ImageLoaded)") == r"C:\USERS\PUBLIC\EVIL.DLL"
    assert one(run, "STR(eventcount)") == "1"
    assert one(run, "CONCAT(\"Event ID\", ':', Computer)") == "7:WEB01.corp.local"
    assert one(run, "SUBSTRING(ImageLoaded, 0, 2)") == "C:"
    assert one(run, "SUBSTRING(ImageLoaded, 3, 5)") == "Users"
    assert one(run, "STRLEN(ImageLoaded)") == len(r"C:\Users\Public\evil.dll")
    assert one(run, "REPLACEALL('e(v)il', ImageLoaded, 'x$1')") == r"C:\Users\Public\xv.dll"
    assert one(run, "UTF8(payload)").startswith("<13>May 02 10:15:30 WEB01.corp.local AgentDevice=WindowsLog\t")


def test_long_and_incidr(run) -> None:
    e = ev(3, {"SourceIp": "10.1.2.3", "DestinationIp": "192.0.2.7"})
    assert one(run, "LONG(sourceip)", [e]) == 167838211
    assert one(run, "LONG('1234')", [e]) == 1234
    assert one(run, "INCIDR('10.0.0.0/8', sourceip)", [e]) is True
    assert one(run, "INCIDR('10.1.2.3', sourceip)", [e]) is True
    assert one(run, "INCIDR('192.0.2.0/25', destinationip)", [e]) is True
    assert one(run, "INCIDR('192.0.2.128/25', destinationip)", [e]) is False


def test_referencesetcontains(run, tmp_path) -> None:
    sets = tmp_path / "sets.yaml"
    sets.write_text("Known Hosts:\n  - WEB01.corp.local\nOther: [x]\n")
    assert one(run, "REFERENCESETCONTAINS('Known Hosts', Computer)", reference_sets=str(sets)) is True
    assert one(run, "REFERENCESETCONTAINS('Other', Computer)", reference_sets=str(sets)) is False
    assert one(run, "REFERENCESETCONTAINS('Missing', Computer)") is False


def test_now_dateadd_logsourcetime(run) -> None:
    assert one(run, "NOW()") == 1714644930123  # the newest (only) event
    assert one(run, "NOW()", now_ms=5) == 5
    assert one(run, "DATEADD('hour', -24, NOW())") == 1714644930123 - 86_400_000
    assert one(run, "DATEADD('minutes', 2, 0)") == 120_000
    assert one(run, "LOGSOURCETIME(starttime)") == 1714644930123


def test_aggregates(run) -> None:
    events = [image_load("a.dll"), image_load("b.dll"), image_load("b.dll")]
    r = run(
        events,
        "SELECT COUNT(*) AS n, UNIQUECOUNT(ImageLoaded) AS u, SUM(eventcount) AS s, MIN(ImageLoaded) AS lo, "
        "MAX(ImageLoaded) AS hi, AVG(eventcount) AS a FROM events",
    )
    assert r.rows == [(3, 2, 3, "a.dll", "b.dll", 1.0)]


def test_wrong_arity_is_an_error(run) -> None:
    with pytest.raises(Exception, match="DATEFORMAT takes 2"):
        one(run, "DATEFORMAT(starttime)")
