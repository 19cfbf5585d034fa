"""Windows event XML: ``wevtutil qe /f:xml``, ``Get-WinEvent | % ToXml()``, ForwardedEvents.

Why not one iterparse over the file: a run of ``<Event>`` elements often has no root, and one broken
element would end an expat parse. The stream is instead cut into ``<Event ...>...</Event>`` segments
(bytes, chunked, constant memory) and each segment is parsed on its own with **defusedxml**, so a bad
element is counted (``element N``, reason ``bad xml``) and the next one is read. Text between
segments (the ``<?xml?>`` prolog, a root ``<Events>``) is ignored, except a ``<!DOCTYPE``/``<!ENTITY``
declaration: it is handed to defusedxml, which refuses it (DTDForbidden), the refusal is counted
(reason ``unsafe xml``) and the file is not read further (its events would depend on that DTD).
Entity references inside an element are never expanded (undefined entity -> ``bad xml``).

Namespaces are stripped; ``<RenderingInfo>`` gives only ``Event.message``; ``<Data Name=..>`` gives named fields
(names without spaces), unnamed ``<Data>`` give ``param1``.. (see evtx_json); ``<UserData>`` is
flattened; ``<Binary>`` is kept only when non-empty; ``<EventID Qualifiers='0'>`` reads the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, fromstring

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats
from iisdetect.model.times import normalise_time

from .evtx_json import field_name, unnamed_data
from .limits import LIMITS

CHUNK = 1 << 20
_START = re.compile(rb"<(?:[\w.-]+:)?Event[\s>/]")
_END = re.compile(rb"</(?:[\w.-]+:)?Event\s*>")
_DECL = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _leaves(elem: Element, data: dict[str, str]) -> None:
    for child in elem:
        if len(child):
            _leaves(child, data)
        else:
            k = _local(child.tag)
            text = child.text or ""
            data[k] = f"{data[k]}, {text}" if k in data else text


def element_to_event(root: Element, source: str, locator: str) -> Event:
    """A parsed ``<Event>`` element -> Event (raises on a missing/invalid EventID)."""
    channel = provider = computer = time = ""
    eid: int | None = None
    rid: int | None = None
    sid: str | None = None
    message: str | None = None
    data: dict[str, str] = {}
    for part in root:
        name = _local(part.tag)
        if name == "System":
            for f in part:
                t = _local(f.tag)
                if t == "EventID":
                    eid = int((f.text or "").strip())
                elif t == "Provider":
                    provider = f.get("Name") or ""
                elif t == "TimeCreated":
                    time = normalise_time(f.get("SystemTime"))
                elif t == "EventRecordID":
                    rid = int(f.text.strip()) if f.text and f.text.strip() else None
                elif t == "Channel":
                    channel = f.text or ""
                elif t == "Computer":
                    computer = f.text or ""
                elif t == "Security":
                    sid = f.get("UserID") or None
        elif name == "EventData":
            unnamed: list[Any] = []
            for d in part:
                t = _local(d.tag)
                if t == "Data":
                    key = d.get("Name")
                    if key is None:
                        unnamed.append(d.text or "")
                    else:
                        data[field_name(key) if " " in key else key] = d.text or ""
                elif t == "Binary":
                    if d.text:
                        data["Binary"] = d.text
                elif len(d):
                    _leaves(d, data)
                else:
                    data[t] = d.text or ""
            if unnamed:
                unnamed_data(unnamed, data)
        elif name == "UserData":
            for wrapper in part:
                _leaves(wrapper, data)
        elif name == "RenderingInfo":  # RenderedXml (wevtutil /e:, Get-WinEvent): keep the message
            for f in part:
                if _local(f.tag) == "Message" and f.text:
                    message = f.text
    if eid is None:
        raise ValueError("no <EventID>")
    return Event(channel, provider, eid, computer, time, rid, sid, data, source, locator, message)


_PREFIXED_TAG = re.compile(rb"(</?)[\w.-]+:")
_PREFIXED_ATTR = re.compile(rb"(\s)[\w.-]+:([\w.-]+\s*=)")


def parse_event_xml(text: bytes | str, source: str, locator: str) -> Event:
    """Parse one ``<Event>`` document safely (defusedxml) and normalise it (Splunk ``_raw`` too).

    A segment cut out of ``<e:Events xmlns:e=..>`` uses a prefix declared outside it: on an
    "unbound prefix" error the prefixes are dropped (namespaces are ignored anyway) and it is retried.
    """
    try:
        root = fromstring(text, forbid_dtd=True)
    except ParseError as exc:
        if "unbound prefix" not in str(exc):
            raise
        raw = text.encode("utf-8") if isinstance(text, str) else text
        root = fromstring(_PREFIXED_ATTR.sub(rb"\1\2", _PREFIXED_TAG.sub(rb"\1", raw)), forbid_dtd=True)
    if _local(root.tag) != "Event":
        raise ValueError(f"root element is <{_local(root.tag)}>, not <Event>")
    return element_to_event(root, source, locator)


def _refuse(prolog: bytes) -> str:
    """Let defusedxml judge a DTD: it raises; return its message (never expands anything)."""
    parser = DefusedXMLParser(forbid_dtd=True)
    try:
        parser.feed(prolog + b"<x/>")
        parser.close()
    except DefusedXmlException as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # malformed DTD: still refused
        return f"{type(exc).__name__}: {exc}"
    return "DOCTYPE declaration refused"


_SUBSET_END = re.compile(rb"\]\s*>")


def _dtd_end(buf: bytearray, at: int) -> int:
    """Where a refused declaration ends: after ``]>`` of an internal subset, else after its ``>``."""
    close = buf.find(b">", at)
    bracket = buf.find(b"[", at, close if close >= 0 else len(buf))
    if bracket >= 0:
        m = _SUBSET_END.search(buf, bracket)
        return m.end() if m else len(buf)
    return close + 1 if close >= 0 else len(buf)


def read(fobj: BinaryIO, source: str, stats: RunStats) -> Iterator[Event]:
    """Yield Events from a run of ``<Event>`` elements; count bad and unsafe elements.

    Linear in the input: the search for an element's end resumes where the last chunk's search
    stopped (an unterminated ``<Event>`` used to be rescanned per 1 MiB chunk: quadratic), and an
    element longer than ``LIMITS.max_line`` is dropped and counted (``element too large``). A DTD is
    refused and counted, and reading goes on after it (the elements after it are parsed without it:
    one that needs its entities is a counted ``bad xml``).
    """
    buf = bytearray()
    n = 0
    resume = 0  # where the search for the current element's end goes on
    dropping = False  # inside an element over the size limit: skip to the next start
    while True:
        chunk = fobj.read(CHUNK)
        buf += chunk
        pos = 0
        while True:
            m = _START.search(buf, pos)
            decl = _DECL.search(buf, pos, m.start() if m else len(buf))
            if decl:
                stats.skip(source, f"element {n + 1}", "unsafe xml", _refuse(bytes(buf[decl.start() :][:4096])))
                pos = _dtd_end(buf, decl.start())
                continue
            if m is None:
                keep = max(pos, len(buf) - 64) if chunk else len(buf)
                del buf[:keep]
                resume = 0
                break
            if dropping and m.start() == 0 and pos == 0:
                m = _START.search(buf, 1)
                if m is None:
                    del buf[: max(0, len(buf) - 64)]
                    break
            dropping = False
            end = _END.search(buf, max(m.end(), resume))
            if end is None:
                del buf[: m.start()]
                if len(buf) > LIMITS.max_line:
                    n += 1
                    stats.skip(source, f"element {n}", "element too large",
                               f"<Event> longer than {LIMITS.max_line} bytes (max_line)")  # fmt: skip
                    dropping, resume = True, 0
                    del buf[: max(1, len(buf) - 64)]
                else:
                    resume = max(0, len(buf) - 64)
                break
            resume = 0
            n += 1
            nxt = _START.search(buf, m.end(), end.start())
            if nxt is not None:  # this element never closed: count it, resume at the next one
                stats.skip(source, f"element {n}", "bad xml", "unterminated <Event> element")
                pos = nxt.start()
                continue
            pos = end.end()
            try:
                ev = parse_event_xml(bytes(buf[m.start() : pos]), source, f"element {n}")
            except DefusedXmlException as exc:
                stats.skip(source, f"element {n}", "unsafe xml", f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                stats.skip(source, f"element {n}", "bad xml", f"{type(exc).__name__}: {exc}")
            else:
                stats.records_read += 1
                yield ev
        if not chunk:
            left = len(_START.findall(buf))
            if left and not dropping:
                stats.skip(source, f"element {n + 1}", "bad xml", "unterminated <Event> at end of input", count=left)
            return
