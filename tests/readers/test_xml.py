"""XML reader: recovery from a bad element, refusal of DTDs/entities, UserData, unnamed Data."""

from __future__ import annotations

from iisdetect.model.stats import RunStats
from iisdetect.readers import xml as xml_reader

from .util import SHAPES, read_all

NS = 'xmlns="http://schemas.microsoft.com/win/2004/08/events/event"'


def ev(eid: int, body: str = "", rid: int = 1) -> str:
    return (
        f"<Event {NS}><System><Provider Name='P'/><EventID>{eid}</EventID>"
        f"<TimeCreated SystemTime='2024-01-01T00:00:00.0000000Z'/><EventRecordID>{rid}</EventRecordID>"
        f"<Channel>Application</Channel><Computer>H</Computer><Security/></System>{body}</Event>\n"
    )


def write(tmp_path, text: str, name: str = "x.xml", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_bad_element_in_the_middle_is_counted_and_reading_goes_on(tmp_path):
    broken = ev(2).replace("</EventID>", "</EventIDX>")  # mismatched tag: not well-formed
    unterminated = ev(3).replace("</Event>", "")
    text = "<Events>" + ev(1) + broken + ev(4, rid=4) + unterminated + ev(5, rid=5) + "</Events>"
    events, stats = read_all(write(tmp_path, text))
    assert [e.event_id for e in events] == [1, 4, 5]
    assert stats.records_read == 3 and stats.records_skipped == 2
    assert [(s.locator, s.reason) for s in stats.skips] == [("element 2", "bad xml"), ("element 4", "bad xml")]
    assert [e.locator for e in events] == ["element 1", "element 3", "element 5"]


def test_billion_laughs_is_refused_not_expanded(tmp_path):
    lol = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
        + "]>\n<Events>"
        + ev(1, "<EventData><Data Name='X'>&lol9;</Data></EventData>")
        + "</Events>"
    )
    events, stats = read_all(write(tmp_path, lol))
    assert events == []
    # the DTD is refused and counted; the element after it is parsed without it: &lol9; is undefined
    assert dict(stats.skipped_by_reason) == {"unsafe xml": 1, "bad xml": 1}
    assert "DTDForbidden" in stats.skips[0].detail and "undefined entity" in stats.skips[1].detail


def test_xxe_is_refused(tmp_path):
    xxe = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + ev(
        1, "<EventData><Data>&xxe;</Data></EventData>"
    )
    events, stats = read_all(write(tmp_path, xxe))
    assert events == [] and dict(stats.skipped_by_reason) == {"unsafe xml": 1, "bad xml": 1}
    assert "root:" not in repr(stats.to_dict())


def test_undeclared_entity_inside_an_element_is_a_bad_element(tmp_path):
    text = ev(1, "<EventData><Data Name='X'>&xxe;</Data></EventData>") + ev(2, rid=2)
    events, stats = read_all(write(tmp_path, text))
    assert [e.event_id for e in events] == [2] and dict(stats.skipped_by_reason) == {"bad xml": 1}


def test_unnamed_data_binary_and_qualifiers(tmp_path):
    body = "<EventData><Data>C:\\mod.dll</Data><Data></Data><Data>8007007e</Data><Binary></Binary></EventData>"
    text = ev(2282, body).replace("<EventID>", "<EventID Qualifiers='49152'>")
    text += ev(1, "<EventData><Data Name='A'>x</Data><Binary>0A0B</Binary></EventData>", rid=2)
    events, stats = read_all(write(tmp_path, text))
    assert events[0].event_id == 2282
    assert events[0].data == {"param1": "C:\\mod.dll", "param2": "", "param3": "8007007e"}
    assert events[1].data == {"A": "x", "Binary": "0A0B"}


def test_userdata_flattened_and_namespaces_stripped(tmp_path):
    body = (
        "<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>"
        "<SubjectUserSid>S-1-5-21-1</SubjectUserSid><SubjectUserName>admin</SubjectUserName>"
        "<Nested><Inner>v</Inner></Nested><Empty/></LogFileCleared></UserData>"
    )
    events, _ = read_all(write(tmp_path, ev(1102, body).replace("<Security/>", "<Security UserID='S-1-5-18'/>")))
    (e,) = events
    assert e.data == {"SubjectUserSid": "S-1-5-21-1", "SubjectUserName": "admin", "Inner": "v", "Empty": ""}
    assert (e.channel, e.provider, e.user_sid, e.time_created) == (
        "Application",
        "P",
        "S-1-5-18",
        "2024-01-01T00:00:00.000000Z",
    )


def test_utf16_export_with_bom(tmp_path):
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<Events>' + ev(1) + ev(2, rid=2) + "</Events>"
    path = write(tmp_path, "\ufeff" + text, "export.log", "utf-16-le")
    events, stats = read_all(path)
    assert [e.event_id for e in events] == [1, 2] and stats.formats == {"xml": 1}


def test_small_chunks_split_elements_anywhere(monkeypatch):
    """Segments crossing chunk boundaries are reassembled (chunk size forced to 7 bytes)."""
    import io

    monkeypatch.setattr(xml_reader, "CHUNK", 7)
    data = (SHAPES / "events_root.xml").read_bytes()
    stats = RunStats()
    events = list(xml_reader.read(io.BytesIO(data), "s", stats))
    assert [e.event_id for e in events] == [7, 4688, 29] and stats.records_skipped == 0


def test_namespace_prefix_declared_on_the_root(tmp_path):
    body = ev(4688, "<EventData><Data Name='CommandLine' xsi:nil='false'>appcmd</Data></EventData>")
    prefixed = body.replace("<", "<e:").replace("<e:/", "</e:").replace(f"e:Event {NS}", "e:Event")
    text = f"<e:Events xmlns:e='http://schemas.microsoft.com/win/2004/08/events/event'>{prefixed}</e:Events>"
    events, stats = read_all(write(tmp_path, text))
    assert stats.records_skipped == 0
    assert [(e.event_id, e.data) for e in events] == [(4688, {"CommandLine": "appcmd"})]
