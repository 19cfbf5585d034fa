"""Format detection by content."""

from __future__ import annotations

import pytest

from iisdetect.readers import Format, sniff
from iisdetect.readers.sniff import container_kind

from .util import SHAPES


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"ElfFile\x00\x00\x00", Format.EVTX),
        (b'\n {"Event": {"System": {"EventID": 1}}}\n', Format.EVTX_JSON),
        (b'[{"Event": {"System": {"EventID": 1}}}]', Format.EVTX_JSON),
        (b'{"winlog": {"event_id": 1}}\n', Format.ECS),
        (b'{"winlog.event_id": "1", "@timestamp": "x"}\n', Format.ECS),
        (b'{"preview": false, "result": {"_raw": "<Event/>"}}\n', Format.SPLUNK_JSON),
        (b'{"EventCode": "4688", "ComputerName": "h"}\n', Format.SPLUNK_JSON),
        (b'{"EventID": 1, "Channel": "Security", "Hostname": "h"}\n', Format.FLAT_JSON),
        (b'\xef\xbb\xbf{"EventID": 1, "SourceName": "x"}\n', Format.FLAT_JSON),
        (b"<?xml version='1.0'?><Events><Event xmlns='x'>", Format.XML),
        (b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>", Format.XML),
        ("\ufeff<Events>".encode("utf-16-le"), Format.XML),
        (b'Record 1\n{\n  "Event": {\n', Format.EVTX_JSON),
        (b"<Export><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>", Format.XML),
        (b'{"name": "not an event"}\n', Format.UNKNOWN),
        (b"<html><body>", Format.UNKNOWN),
        (b"# README\n", Format.UNKNOWN),
        (b"\x00\x01\x02garbage\x00", Format.UNKNOWN),
        (b"", Format.UNKNOWN),
        (b"PK\x03\x04rest", Format.UNKNOWN),
    ],
)
def test_sniff(head, fmt):
    got, reason = sniff(head, "f")
    assert got is fmt and reason


def test_first_object_longer_than_head_uses_key_hints():
    head = b'{"Event": {"System": {"EventID": 1, "Big": "' + b"a" * 70000
    assert sniff(head[:65536], "f")[0] is Format.EVTX_JSON


def test_containers():
    assert container_kind(b"PK\x03\x04") == "zip"
    assert container_kind(b"\x1f\x8b\x08") == "gzip"
    assert container_kind(b"ElfFile\x00") is None


def test_name_is_never_used():
    data = (SHAPES / "events.ecs.json").read_bytes()
    assert sniff(data, "file.xml")[0] is sniff(data, "file.evtx")[0] is Format.ECS
