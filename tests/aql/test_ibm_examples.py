"""IBM's own AQL examples, run on hand-built events, with the expected rows worked out by hand.

Each test names the IBM page the query comes from (docs/aql.md lists them). Where IBM's example
needs data the emulator does not have (flows, magnitude, offenses), the test says what it adapts.

The events (all on 2024-05-02, UTC; "now" is the newest, 10:20):
  A 10:16  Security 4648 alice  10.45.225.14 -> -
  B 10:17  Security 4648 alice  192.0.2.7    -> -
  C 10:18  Security 4648 bob    10.1.1.1     -> 192.0.2.7   (payload carries "my search term")
  I 10:19  Sysmon 7 image load  IIS APPPOOL\\DefaultAppPool, no IP, Name=watch-me
  E 10:19:30 Sysmon 3 network   203.0.113.9 -> 10.1.1.1
  D 10:20  Security 4648 root   2001:db8::5  -> -
"""

from __future__ import annotations

import pytest

from iisdetect.aql import LocalData
from iisdetect.aql.errors import AqlError
from iisdetect.aql.prepass import Unsupported
from tests.helpers import SECURITY, ev, image_load

T = "2024-05-02T10:{}.000000Z"


def logon(user: str, ip: str, minute: str, **extra: str):
    return ev(4648, {"SubjectUserName": user, "IpAddress": ip, **extra}, log=SECURITY, time=T.format(minute))


A = logon("alice", "10.45.225.14", "16:00")
B = logon("alice", "192.0.2.7", "17:00")
C = logon("bob", "10.1.1.1", "18:00", DestAddress="192.0.2.7", Note="run my search term now")
I_ = ev(7, {**image_load(r"C:\Users\Public\x.dll").data, "Name": "watch-me"}, time=T.format("19:00"))
E = ev(3, {"Image": r"C:\x\nc.exe", "SourceIp": "203.0.113.9", "DestinationIp": "10.1.1.1"}, time=T.format("19:30"))
D = logon("root", "2001:db8::5", "20:00")
EVENTS = [A, B, C, I_, E, D]
APPPOOL = "IIS APPPOOL\\DefaultAppPool"


@pytest.fixture
def local(tmp_path) -> LocalData:
    ref = tmp_path / "ref.yaml"
    ref.write_text(
        "sets:\n  CriticalWatchList: [192.0.2.7]\n  Watch: [watch-me]\n"
        "maps:\n  GlobalID_Mapping: {alice: G-1, bob: G-2}\n"
        "tables:\n  user_data:\n"
        "    alice: {FullName: Alice Ariel, Location: Ottawa, Manager: Mia}\n"
        "    bob: {FullName: Bob B, Location: Paris, Manager: Mia}\n"
    )
    nets = tmp_path / "nets.yaml"
    nets.write_text("Corp.Servers: [10.45.0.0/16]\nCorp: [10.0.0.0/8]\nV6: ['2001:db8::/32']\n")
    groups = tmp_path / "groups.yaml"
    groups.write_text(
        "Windows: ['Security @ *', 'Microsoft-Windows-Sysmon/Operational @ *']\nDCs: ['Security @ DC*']\n"
    )
    return LocalData(reference_data=str(ref), network_hierarchy=str(nets), log_source_groups=str(groups))


def rows(run, query: str, **kw):
    r = run(EVENTS, query, **kw)
    return r.columns, r.rows


def key(row):
    return tuple("" if v is None else str(v) for v in row)


# --- https://www.ibm.com/docs/en/SS42VS_7.5/com.ibm.qradar.doc/r_aql_ref_data_examples.html ---------------
def test_referencetable_example_groups_by_aliases_and_filters_on_qidname(run, local) -> None:
    query = """SELECT
REFERENCETABLE('user_data','FullName',username) AS 'Full Name',
REFERENCETABLE('user_data','Location',username) AS 'Location',
REFERENCETABLE('user_data','Manager',username) AS 'Manager',
UNIQUECOUNT(username) AS 'Userid Count',
UNIQUECOUNT(sourceip) AS 'Source IP Count',
COUNT(*) AS 'Event Count'
FROM events
WHERE qidname(qid)ILIKE '%logon%'
GROUP BY "Full Name", "Location", "Manager"
LAST 1 days"""
    cols, got = rows(run, query, local=local)
    assert cols == ["Full Name", "Location", "Manager", "Userid Count", "Source IP Count", "Event Count"]
    assert sorted(got, key=key) == sorted(
        [("Alice Ariel", "Ottawa", "Mia", 1, 2, 2), ("Bob B", "Paris", "Mia", 1, 1, 1), (None, None, None, 1, 1, 1)],
        key=key,
    )


def test_referencemap_example_names_the_unsupported_rulename(run, local) -> None:
    query = """SELECT REFERENCEMAP('GlobalID_Mapping',username) AS 'Global ID',
REFERENCETABLE('user_data','FullName', 'Global ID') AS 'Full Name', UNIQUECOUNT(username), COUNT(*) AS 'Event count'
FROM events WHERE RULENAME(creEventlist) ILIKE '%suspicious%' GROUP BY "Global ID" LAST 2 days"""
    with pytest.raises(Unsupported, match=r"RULENAME\(\)"):
        rows(run, query, local=local)
    # the same without the rule engine: the map lookup per user
    q = ("SELECT REFERENCEMAP('GlobalID_Mapping',username) AS 'Global ID', COUNT(*) AS 'Event count' "
         "FROM events WHERE qidname(qid) ILIKE '%logon%' GROUP BY \"Global ID\"")  # fmt: skip
    cols, got = rows(run, q, local=local)
    assert sorted(got, key=key) == sorted([("G-1", 2), ("G-2", 1), (None, 1)], key=key)


def test_reference_set_argument_binds_to_the_event_not_the_lookup_table(run, local) -> None:
    """'Name' is also a column of a naive lookup table: the set test must read the event's Name."""
    _, got = rows(run, "SELECT username FROM events WHERE REFERENCESETCONTAINS('Watch', Name)", local=local)
    assert got == [(APPPOOL,)]


# --- https://www.ibm.com/docs/en/qsip/7.6.0?topic=language-aql-subquery ------------------------------------
def test_subquery_in_from(run) -> None:
    _, got = rows(run, "SELECT username FROM (SELECT * FROM events WHERE username IS NOT NULL LAST 60 MINUTES)")
    assert sorted(got) == sorted([("alice",), ("alice",), ("bob",), (APPPOOL,), ("root",), ("S-1-5-18",)])


def test_subquery_in_with_its_own_time_clause(run) -> None:
    query = "SELECT * FROM events WHERE username IN (SELECT username FROM events LIMIT 10 LAST 5 MINUTES) LAST 24 HOURS"
    r = run(EVENTS, query)
    assert len(r.rows) == 6  # every username occurs within the last 5 minutes (10:15-10:20)
    r = run(EVENTS, "SELECT username FROM events WHERE username IN (SELECT username FROM events LAST 2 MINUTES)")
    # since 10:18: C (bob), I (the app pool), E (10:19:30, no user: its SID) and D (root)
    assert sorted(r.rows) == sorted([("bob",), (APPPOOL,), ("S-1-5-18",), ("root",)])


def test_subquery_sourceip_in_destinationips(run) -> None:
    r = run(EVENTS, "SELECT * FROM EVENTS WHERE sourceip IN (SELECT destinationip FROM events)")
    ips = sorted(dict(zip(r.columns, x, strict=True))["sourceip"] for x in r.rows)
    assert ips == ["10.1.1.1", "192.0.2.7"]  # B (192.0.2.7 is C's destination) and C (10.1.1.1 is E's)


def test_risky_hosts_example_with_eventdirection_and_a_reference_set(run, local) -> None:
    """Inner: local->remote events to a watched host (C: 10.1.1.1 -> 192.0.2.7); outer: who talked to 10.1.1.1."""
    query = """SELECT sourceip AS 'Risky Hosts' FROM events
WHERE destinationip IN (SELECT sourceip FROM events
WHERE eventdirection = 'L2R'
AND REFERENCESETCONTAINS('CriticalWatchList', destinationip)
GROUP BY sourceip)
GROUP BY sourceip last 24 hours"""
    assert rows(run, query, local=local) == (["Risky Hosts"], [("203.0.113.9",)])


def test_scalar_subquery(run) -> None:
    _, got = rows(run, "SELECT username, (SELECT COUNT(*) FROM events) AS total FROM events WHERE username = 'bob'")
    assert got == [("bob", 6)]


# --- https://www.ibm.com/docs/SS42VS_7.4/com.ibm.qradar.doc/r_aql_aggregate_functions.html -----------------
def test_group_by_returns_the_first_value_of_other_columns(run) -> None:
    cols, got = rows(run, "SELECT username, sourceip, COUNT(*) FROM events GROUP BY username LAST 5 minutes")
    assert cols == ["username", "sourceip", "COUNT(*)"]
    assert sorted(got, key=key) == sorted(
        [("alice", "10.45.225.14", 2), ("bob", "10.1.1.1", 1), (APPPOOL, None, 1), ("S-1-5-18", "203.0.113.9", 1),
         ("root", "2001:db8::5", 1)], key=key)  # fmt: skip


def test_first_and_last(run) -> None:
    """IBM: SELECT sourceip, FIRST(magnitude) ... (adapted: magnitude is empty offline)."""
    _, got = rows(run, "SELECT username, FIRST(sourceip), LAST(sourceip) FROM events WHERE username = 'alice' "
                       "GROUP BY username")  # fmt: skip
    assert got == [("alice", "10.45.225.14", "192.0.2.7")]


def test_count_names_and_having_on_alias(run) -> None:
    """IBM: SELECT sourceip, MAX(magnitude) AS MAG FROM events GROUP BY sourceip HAVING MAG > 5 (adapted)."""
    cols, got = rows(run, "SELECT username, COUNT(*) AS MAG FROM events GROUP BY username HAVING MAG > 1")
    assert (cols, got) == (["username", "MAG"], [("alice", 2)])


# --- https://www.ibm.com/docs/ja/SSKMKU/com.ibm.qradar.doc/c_aql_conditional_logic.html ---------------------
def test_if_then_else(run) -> None:
    _, got = rows(run, "SELECT sourceip, IF username = 'root' THEN 'ADMIN' ELSE username AS user FROM events "
                       "WHERE qidname(qid) ILIKE '%logon%'")  # fmt: skip
    assert sorted(got) == sorted([("10.45.225.14", "alice"), ("192.0.2.7", "alice"), ("10.1.1.1", "bob"),
                                  ("2001:db8::5", "ADMIN")])  # fmt: skip


def test_case_column_is_named_by_its_text(run) -> None:
    cols, got = rows(run, "SELECT CASE username WHEN 'root' THEN 'Admin root' WHEN 'admin' THEN 'Admin user' "
                          "ELSE 'other' END FROM events")  # fmt: skip
    assert cols == ["CASE username WHEN 'root' THEN 'Admin root' WHEN 'admin' THEN 'Admin user' ELSE 'other' END"]
    assert sorted(x[0] for x in got) == ["Admin root", "other", "other", "other", "other", "other"]


# --- https://ibm.com/docs/SS42VS_latest/com.ibm.qradar.doc/r_aql_operators.html ------------------------------
def test_division_of_longs_is_integer_division(run) -> None:
    _, got = rows(run, "SELECT starttime/60000 AS minute, COUNT(*) FROM events GROUP BY minute ORDER BY minute")
    base = 1714644960000 // 60000  # 2024-05-02 10:16
    assert got == [(base, 1), (base + 1, 1), (base + 2, 1), (base + 3, 2), (base + 4, 1)]


def test_power_modulo_and_double_equals(run) -> None:
    """IBM: sourceBytes ^ 2 < 256, sourceBytes % 8 == 7 (flows; adapted to eventcount, which is 1)."""
    _, got = rows(run, "SELECT eventcount ^ 2 AS p, eventcount % 8 == 1 AS m FROM events WHERE eventcount ^ 2 < 256")
    assert got == [(1.0, True)] * 6


def test_collate_after_desc(run) -> None:
    r = run(EVENTS, "SELECT * FROM EVENTS ORDER BY sourceIP DESC COLLATE 'de-CH'")
    ips = [dict(zip(r.columns, x, strict=True))["sourceip"] for x in r.rows]
    assert ips == ["203.0.113.9", "2001:db8::5", "192.0.2.7", "10.45.225.14", "10.1.1.1", None]


# --- https://www.ibm.com/docs/en/qsip/7.6.0?topic=structure-quotation-marks ------------------------------------
def test_text_search_and_incidr_examples(run) -> None:
    assert [x[0] for x in run(EVENTS, "SELECT username from events WHERE TEXT SEARCH 'my search term'").rows] == ["bob"]
    r = run(EVENTS, "SELECT username FROM events WHERE INCIDR('10.45.225.14', sourceip)")
    assert r.rows == [("alice",)]
    assert run(EVENTS, "SELECT username FROM events WHERE INCIDR('2001:db8::/32', sourceip)").rows == [("root",)]
    assert run(EVENTS, "SELECT username FROM events WHERE INCIDR('10.0.0.0/8', sourceip)").rows in (
        [("alice",), ("bob",)], [("bob",), ("alice",)])  # fmt: skip


def test_quotation_marks_example_runs_with_mixed_case_names(run) -> None:
    query = """SELECT sourceIP, destinationIP, sourcePort, EventCount AS 'Event Count', category, hasidentity,
username, payload, UtF8(payLoad), QiD, QiDnAmE(qid) FROM events
WHERE (NOT (sourcePort <= 3003 OR hasidentity = 'True'))
AND (qid = 5000023 OR qid = 5000193)
AND (INCIDR('192.0.2.0/4', sourceIP) OR NOT INCIDR('192.0.2.0/4', sourceIP)) ORDER BY "Event Count"
DESC LAST 60 MINUTES"""
    r = run(EVENTS, query)
    assert r.columns[:4] == ["sourceip", "destinationip", "sourceport", "Event Count"]
    assert r.columns[-3:] == ["UTF8(payLoad)", "qid", "QIDNAME(qid)"]  # function names upper-case
    assert r.rows == []  # no event has those QIDs


# --- https://www.ibm.com/docs/en/SSKMKU/com.ibm.qradar.doc/r_aql_start_stop.html ------------------------------
def test_start_stop_parsedatetime(run) -> None:
    query = "SELECT username FROM events START PARSEDATETIME('3 minutes ago') STOP PARSEDATETIME('now')"
    assert sorted(x[0] for x in run(EVENTS, query).rows) == sorted([APPPOOL, "S-1-5-18", "alice", "bob", "root"])


# --- https://juniper.net/documentation/us/en/software/jsa7.5.0/jsa-aql/topics/concept/jsa-aql-aql-data-retrieval-functions.html
def test_lookups_in_where_group_by_having_and_order_by(run) -> None:
    query = ("SELECT QIDNAME(qid) AS 'Event', COUNT(*) AS n FROM events WHERE QIDNAME(qid) ILIKE '%logon%' "
             "GROUP BY QIDNAME(qid) HAVING COUNT(*) > 1 ORDER BY QIDNAME(qid)")  # fmt: skip
    assert rows(run, query) == (["Event", "n"], [("A logon was attempted using explicit credentials", 4)])
    query = ("SELECT username FROM events WHERE LOGSOURCENAME(logsourceid) ILIKE 'Security%' "
             "AND CATEGORYNAME(category) = 'System Status' AND CATEGORYNAME(highlevelcategory) = 'System'")  # fmt: skip
    assert sorted(run(EVENTS, query).rows) == [("alice",), ("alice",), ("bob",), ("root",)]


def test_networkname_and_logsourcegroupname(run, local) -> None:
    _, got = rows(run, "SELECT username, NETWORKNAME(sourceip) AS net, LOGSOURCEGROUPNAME(devicegrouplist) AS g "
                       "FROM events WHERE qidname(qid) ILIKE '%logon%' ORDER BY starttime", local=local)  # fmt: skip
    assert got == [("alice", "Corp.Servers", "Windows"), ("alice", None, "Windows"), ("bob", "Corp", "Windows"),
                   ("root", "V6", "Windows")]  # fmt: skip


# --- https://www.ibm.com/docs/de/SSKMKU/com.ibm.qradar.doc/r_aql_time_date_formats.html -----------------------
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [  # 2024-05-02 10:16:00.000, a Thursday; day 123 of the year; US week 18 (Sun 28 Apr - Sat 4 May)
        ("G yyyy yy y", "AD 2024 24 2024"),
        ("M MM MMM MMMM", "5 05 May May"),
        ("w W D d F u", "18 1 123 2 1 4"),
        ("E EEEE a", "Thu Thursday AM"),
        ("H k K h mm ss SSS", "10 10 10 10 16 00 000"),
        ("z Z X", "UTC +0000 Z"),
        ("yyyy-MM-dd'T'HH:mm 'o''clock'", "2024-05-02T10:16 o'clock"),
    ],
)
def test_dateformat_letters(run, pattern: str, expected: str) -> None:
    q = "SELECT DATEFORMAT(starttime, '" + pattern.replace("'", "''") + "') FROM events WHERE username = 'alice' "
    assert run(EVENTS, q + "ORDER BY starttime LIMIT 1").rows == [(expected,)]


# --- Java regexes (https://www.ibm.com/docs/en/qsip/7.6.0?topic=structure-like-clause: MATCHES/IMATCHES) -----
def test_java_regex_classes_are_translated(run) -> None:
    q = "SELECT username FROM events WHERE username MATCHES '\\p{Lower}+' AND sourceip MATCHES '\\d+(\\.\\d+){3}'"
    assert sorted(run(EVENTS, q).rows) == [("alice",), ("alice",), ("bob",)]


@pytest.mark.parametrize(("pattern", "feature"), [("a(?=b)", "lookahead"), ("a++", "possessive"),
                                                  ("(a)\\1", "back reference"), ("(?x)a", "inline flag")])  # fmt: skip
def test_java_regex_features_re2_lacks_are_named(run, pattern: str, feature: str) -> None:
    with pytest.raises(AqlError, match=feature):
        run(EVENTS, f"SELECT username FROM events WHERE username MATCHES '{pattern}'")


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("SELECT * FROM events PARAMETERS REMOTESERVERS=x", "PARAMETERS"),
        ("SELECT LONG(sourceip) AS long_ip FROM events INTO c WHERE long_ip = 0", "INTO"),
        ("SELECT ASSETUSER(sourceip) FROM events", "ASSETUSER"),
        ("SELECT * FROM events WHERE INOFFENSE(1)", "INOFFENSE"),
    ],
)
def test_unsupported_constructs_are_named(run, query: str, named: str) -> None:
    with pytest.raises(Unsupported, match=named):
        run(EVENTS, query)
