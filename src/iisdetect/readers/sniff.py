"""Decide a file's format from its first bytes, never from its name.

Why by content: exports get renamed (``.txt``, ``.log``, no extension) and one ``.json`` name covers
four different JSON shapes. Order of tests: binary magic (EVTX, then the gzip/zip containers, which
the caller opens and sniffs again inside), then the first non-blank character (``<`` is XML,
``{``/``[`` is JSON) and, for JSON, the keys of the first object.
"""

from __future__ import annotations

import json
import re
from enum import Enum

import orjson

#: How many bytes callers should read for :func:`sniff`.
HEAD_SIZE = 64 * 1024

EVTX_MAGIC = b"ElfFile\x00"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_EVENT_NS = "schemas.microsoft.com/win/2004/08/events/event"


class Format(Enum):
    """Input formats; the value is the id used in ``RunStats.formats`` and in the docs."""

    EVTX = "evtx"
    EVTX_JSON = "evtx-json"
    FLAT_JSON = "flat-json"
    ECS = "ecs"
    SPLUNK_JSON = "splunk-json"
    XML = "xml"
    EVTXECMD_CSV = "evtxecmd-csv"
    UNKNOWN = "unknown"


BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


def container_kind(head: bytes) -> str | None:
    """``zip``/``tar``/``gzip``/``bzip2``/``xz`` when ``head`` starts a container opened in place.

    Magic numbers: zip ``PK\\x03\\x04``, gzip ``1f 8b`` (RFC 1952), bzip2 ``BZh`` + a block size digit,
    xz ``fd 37 7a 58 5a 00``, POSIX tar ``ustar`` at offset 257 (GNU tar writes ``ustar  \\0``).
    """
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC) and head[3:4].isdigit() and head[3:4] != b"0":
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head[257:262] == b"ustar":
        return "tar"
    return None


def decode_head(head: bytes) -> str:
    """Text of a head for peeking: BOMs honoured (wevtutil/PowerShell write UTF-16), errors ignored."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("utf-8", errors="ignore")


def sniff(head: bytes, name: str) -> tuple[Format, str]:
    """Return ``(format, human reason)`` for a file whose first bytes are ``head``.

    ``name`` is only used in the reason text (the decision never depends on it).
    """
    if head.startswith(EVTX_MAGIC):
        return Format.EVTX, "EVTX magic ElfFile"
    kind = container_kind(head)
    if kind:
        return Format.UNKNOWN, f"{kind} container (members are sniffed one by one)"
    text = decode_head(head).lstrip()
    if not text:
        return Format.UNKNOWN, f"{name}: empty"
    first = text[0]
    if first == "<":
        if re.match(r"<(\?xml|!--|!DOCTYPE|([\w.-]+:)?Events?[\s>/])", text) or _EVENT_NS in text:
            return Format.XML, "XML: an <Event>/<Events> element, an <?xml prolog or the event namespace"
        return Format.UNKNOWN, f"{name}: XML but not Windows event XML"
    if re.match(r"Record \d+\s*\n\s*\{", text):
        return Format.EVTX_JSON, "evtx_dump JSON: 'Record N' headers before pretty-printed objects"
    if first in "{[":
        obj = _first_object(text)
        if obj is not None:
            fmt = classify_keys(obj)
            if fmt is not Format.UNKNOWN:
                return fmt, f"JSON: first object's keys look like {fmt.value}"
            return Format.UNKNOWN, f"{name}: JSON of no known event shape"
        return _sniff_json_text(text, name)
    if first == "R" or first == '"':
        from .evtxecmd import is_header

        if is_header(text.split("\n", 1)[0]):
            return Format.EVTXECMD_CSV, "EvtxECmd CSV: header names EventRecordId, TimeCreated, EventId, Payload..."
    if b"\x00" in head[:512]:
        return Format.UNKNOWN, f"{name}: binary content, not a known log format"
    return Format.UNKNOWN, f"{name}: not EVTX, XML or JSON"


def classify_keys(obj: dict) -> Format:
    """Pick a JSON shape from one object's keys (and one level below for wrappers)."""
    if not isinstance(obj, dict):
        return Format.UNKNOWN
    ev = obj.get("Event")
    if isinstance(ev, dict) and "System" in ev:
        return Format.EVTX_JSON
    src = obj.get("_source")  # an Elasticsearch hit wrapping the document
    doc = src if isinstance(src, dict) else obj
    if isinstance(doc.get("winlog"), dict) or any(k.startswith("winlog.") for k in doc):
        return Format.ECS
    if isinstance(obj.get("result"), dict) or "_raw" in obj or "sourcetype" in obj or "EventCode" in obj:
        return Format.SPLUNK_JSON
    if "EventID" in obj and ("Channel" in obj or "SourceName" in obj or "Hostname" in obj):
        return Format.FLAT_JSON
    return Format.UNKNOWN


def _first_object(text: str) -> dict | None:
    """The first JSON object of an NDJSON line or of a JSON array, if the head holds all of it."""
    if text[0] == "{":
        line = text.split("\n", 1)[0]
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                obj, _ = json.JSONDecoder().raw_decode(text)
            except (ValueError, RecursionError):  # deep nesting ({"a": [[[[...) is not an event
                return None
        return obj if isinstance(obj, dict) else None
    body = text[1:].lstrip()
    if not body.startswith("{"):
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(body)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


_KEY_HINTS: tuple[tuple[str, Format], ...] = (
    ('"System"', Format.EVTX_JSON),
    ('"winlog', Format.ECS),
    ('"_raw"', Format.SPLUNK_JSON),
    ('"sourcetype"', Format.SPLUNK_JSON),
    ('"EventCode"', Format.SPLUNK_JSON),
    ('"EventID"', Format.FLAT_JSON),
)


def _sniff_json_text(text: str, name: str) -> tuple[Format, str]:
    """Fallback when the first object is longer than the head or broken: look for key names."""
    window = text[:HEAD_SIZE]
    for needle, fmt in _KEY_HINTS:
        if needle in window:
            return fmt, f"JSON (first object unparsed): key {needle} suggests {fmt.value}"
    return Format.UNKNOWN, f"{name}: JSON-like text of no known event shape"
