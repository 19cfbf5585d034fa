"""Build small EVTX files byte by byte, so the EVTX reader's error paths are tested without a corpus.

Layout from libyal's EVTX documentation
(https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc):
a 4 KiB file header, then 64 KiB chunks (128-byte header, 384 bytes of string/template tables,
records from offset 512). Each record is ``2a 2a 00 00``, its size, its id, a FILETIME, a BinXML
fragment and its size again. The BinXML here uses no templates: every element and attribute name is
written inline (name offset = the offset right after the field, as evtx-rs expects), values are
UTF-16 strings (value type 0x01). Checksums are real CRC32s, so the files are valid for pyevtx.

The events are the project's own: a Sysmon process creation (EID 1) per record, ids chosen by the
test. Nothing here is copied from the corpus.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

HEADER, CHUNK, TABLES = 4096, 65536, 512


@dataclass
class Elem:
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Elem] = field(default_factory=list)
    text: str | None = None


def _name(buf: bytearray, chunk_off: int, name: str) -> None:
    """Name offset pointing right behind itself, then the inline name structure."""
    here = chunk_off + len(buf) + 4
    buf += struct.pack("<I", here)
    buf += struct.pack("<IHH", 0, 0, len(name)) + name.encode("utf-16-le") + b"\x00\x00"


def _value(buf: bytearray, text: str) -> None:
    buf += b"\x05\x01" + struct.pack("<H", len(text)) + text.encode("utf-16-le")


def _element(buf: bytearray, chunk_off: int, el: Elem) -> None:
    buf += b"\x41" if el.attrs else b"\x01"  # no dependency id: evtx-rs reads one only in templates
    size_at = len(buf)
    buf += b"\x00\x00\x00\x00"  # data size, patched below
    start = len(buf)
    _name(buf, chunk_off, el.name)
    if el.attrs:
        list_at = len(buf)
        buf += b"\x00\x00\x00\x00"
        list_start = len(buf)
        items = list(el.attrs.items())
        for i, (k, v) in enumerate(items):
            buf += b"\x46" if i + 1 < len(items) else b"\x06"
            _name(buf, chunk_off, k)
            _value(buf, v)
        struct.pack_into("<I", buf, list_at, len(buf) - list_start)
    if not el.children and el.text is None:
        buf += b"\x03"
    else:
        buf += b"\x02"
        if el.text is not None:
            _value(buf, el.text)
        for child in el.children:
            _element(buf, chunk_off, child)
        buf += b"\x04"
    struct.pack_into("<I", buf, size_at, len(buf) - start)


def sysmon_event(record_id: int, command_line: str) -> Elem:
    system = Elem("System", children=[
        Elem("Provider", {"Name": "Microsoft-Windows-Sysmon"}),
        Elem("EventID", text="1"),
        Elem("TimeCreated", {"SystemTime": f"2024-05-03T02:41:{record_id % 60:02d}.000000Z"}),
        Elem("EventRecordID", text=str(record_id)),
        Elem("Channel", text="Microsoft-Windows-Sysmon/Operational"),
        Elem("Computer", text="WEB01"),
    ])  # fmt: skip
    data = Elem("EventData", children=[
        Elem("Data", {"Name": "Image"}, text="C:\\Windows\\System32\\inetsrv\\appcmd.exe"),
        Elem("Data", {"Name": "CommandLine"}, text=command_line),
    ])  # fmt: skip
    return Elem("Event", {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}, [system, data])


def record(record_id: int, chunk_off: int, event: Elem) -> bytes:
    """One record placed at ``chunk_off`` inside its chunk (names are chunk-relative)."""
    body = bytearray(b"\x0f\x01\x01\x00")
    _element(body, chunk_off + 24, event)
    body += b"\x00"
    size = 24 + len(body) + 4
    size += (-size) % 8
    rec = struct.pack("<4sIQQ", b"\x2a\x2a\x00\x00", size, record_id, 133590000000000000 + record_id)
    rec += bytes(body)
    rec += bytes(size - len(rec) - 4) + struct.pack("<I", size)
    return rec


def chunk(first_id: int, count: int, command: str = "appcmd.exe list modules") -> bytes:
    """A full 64 KiB chunk holding records ``first_id .. first_id+count-1``."""
    records = bytearray()
    last_off = TABLES
    for rid in range(first_id, first_id + count):
        last_off = TABLES + len(records)
        records += record(rid, last_off, sysmon_event(rid, f"{command} /n:{rid}"))
    assert TABLES + len(records) <= CHUNK, "too many records for one chunk"
    head = bytearray(TABLES)
    last = first_id + count - 1
    struct.pack_into("<8sQQQQIII", head, 0, b"ElfChnk\x00", first_id, last, first_id, last, 128, last_off,
                     TABLES + len(records))  # fmt: skip
    struct.pack_into("<I", head, 52, zlib.crc32(bytes(records)))
    struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120]) + bytes(head[128:TABLES])))
    body = bytes(head) + bytes(records)
    return body + bytes(CHUNK - len(body))


def file_header(chunks: int, next_id: int) -> bytes:
    hdr = bytearray(HEADER)
    struct.pack_into("<8sQQQIHHHH", hdr, 0, b"ElfFile\x00", 0, max(0, chunks - 1), next_id, 128, 1, 3, HEADER, chunks)
    struct.pack_into("<I", hdr, 124, zlib.crc32(bytes(hdr[:120])))
    return bytes(hdr)


def evtx_file(per_chunk: list[int], free_chunks: int = 0) -> bytes:
    """A clean file: chunk i holds ``per_chunk[i]`` records, numbered from 1; then all-zero free chunks."""
    body, rid = b"", 1
    for n in per_chunk:
        body += chunk(rid, n)
        rid += n
    return file_header(len(per_chunk), rid) + body + bytes(CHUNK * free_chunks)


def damage(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def chunk_offset(index: int) -> int:
    return HEADER + index * CHUNK
