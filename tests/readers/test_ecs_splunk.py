"""ECS and Splunk specifics beyond the shared-shape fixtures."""

from __future__ import annotations

from iisdetect.readers.ecs import normalise_ecs
from iisdetect.readers.splunk import normalise_splunk


def test_ecs_user_data_and_fallbacks():
    obj = {
        "@timestamp": "2024-01-01T00:00:00Z",
        "event": {"code": "1102", "provider": "Microsoft-Windows-Eventlog"},
        "host": {"name": "h1"},
        "winlog": {"channel": "Security", "user_data": {"xml_name": "LogFileCleared", "SubjectUserName": "admin"}},
    }
    e = normalise_ecs(obj, "s", "line 1")
    assert (e.event_id, e.provider, e.computer, e.record_id, e.user_sid) == (
        1102,
        "Microsoft-Windows-Eventlog",
        "h1",
        None,
        None,
    )
    assert e.data == {"SubjectUserName": "admin"}
    assert normalise_ecs({"winlog": {"channel": "x"}}, "s", "l") is None


def test_ecs_dotted_event_data_names_keep_their_dots():
    e = normalise_ecs({"winlog.event_id": 5, "winlog.event_data.Some.Name": "v"}, "s", "l")
    assert e.data == {"Some.Name": "v"}


def test_splunk_multivalue_and_numeric_eventtype():
    row = {"result": {"EventCode": ["4688"], "LogName": "Security", "EventType": "0", "Field": ["a", "b"]}}
    e = normalise_splunk(row, "s", "l")
    assert e.event_id == 4688 and e.data == {"Field": "a, b"}


def test_splunk_channel_from_source_and_raw_xml_is_defused():
    e = normalise_splunk({"EventCode": "1", "source": "WinEventLog:System", "_time": 1714644930.5}, "s", "l")
    assert e.channel == "System" and e.time_created == "2024-05-02T10:15:30.500000Z"
    e = normalise_splunk({"EventCode": "1", "_time": "1714644930.500"}, "s", "l")
    assert e.time_created == "2024-05-02T10:15:30.500000Z"
    bomb = '<!DOCTYPE x [<!ENTITY a "b">]><Event><System><EventID>1</EventID></System></Event>'
    try:
        normalise_splunk({"_raw": bomb, "EventCode": "1"}, "s", "l")
    except Exception as exc:  # the JSON loop counts it as a bad record
        assert "Forbidden" in type(exc).__name__
    else:
        raise AssertionError("DTD in _raw was not refused")


def test_splunk_type_dropped_only_when_it_is_the_classic_level():
    e = normalise_splunk({"EventCode": "1", "Type": "Information", "Other": "x"}, "s", "l")
    assert e.data == {"Other": "x"}
    e = normalise_splunk({"EventCode": "1", "Type": "Manual", "EventType": "SetValue"}, "s", "l")
    assert e.data == {"Type": "Manual", "EventType": "SetValue"}


def test_elasticsearch_hit_wrapper(tmp_path):
    import json

    from .util import SHAPES, read_all

    docs = [json.loads(x) for x in (SHAPES / "events.ecs.json").read_text().splitlines()]
    p = tmp_path / "hits.json"
    hits = [{"_index": "winlogbeat-1", "_id": str(i), "_source": d} for i, d in enumerate(docs)]
    p.write_text("".join(json.dumps(h) + "\n" for h in hits))
    wrapped, stats = read_all(p)
    plain, _ = read_all(SHAPES / "events.ecs.json")
    assert stats.formats == {"ecs": 1} and wrapped == plain and len(plain) == 3
