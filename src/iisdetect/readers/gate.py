"""Reading EventID and channel from a record's raw JSON text, and the skip decision before decoding.

Why here: the readers own the raw text (pyevtx's JSON string, an NDJSON line); the hunt hands them
a :class:`~iisdetect.engine.prefilter.RecordGate` and they ask :func:`admit` before ``orjson.loads``.
Only a hunt passes a gate: ``stack``/``convert``/``aql``/``audit`` read every record.

The raw extraction must give the value the normaliser would (docs/hunt.md): the key must occur
exactly once in the record (an EventData field named ``EventID`` makes it ambiguous), not after a
backslash, with a plain decimal value (``4688``, ``"4688"``, pyevtx's
``{"#attributes":{"Qualifiers":..},"#text":7036}``); a record with a ``\\u``/``\\/`` escape anywhere
(a key can be spelled ``"\\u0045ventID"``) is not routed. Anything else: the record is decoded.
"""

from __future__ import annotations

import re
from typing import Any

from iisdetect.model.stats import RunStats

_EID = re.compile(
    r'\s*:\s*(?:(0|[1-9][0-9]{0,9})|"([0-9]{1,10})"'
    r'|\{"#attributes":\{"Qualifiers":(?:[0-9]+|null|"[0-9]*")\},"#text":(0|[1-9][0-9]{0,9})\})\s*[,}]'
)
_CHANNEL = re.compile(r'\s*:\s*(?:"([^"\\]*)"|null)\s*[,}]')
_ESCAPE = re.compile(r"(?:^|[^\\])(?:\\\\)*\\[u/]")


def escaped(raw: str) -> bool:
    """Does the raw JSON hold a ``\\uXXXX`` or ``\\/`` escape (which could spell any key or literal)?"""
    return ("\\u" in raw or "\\/" in raw) and _ESCAPE.search(raw) is not None


def _once(raw: str, key: str) -> int:
    """Where the only occurrence of ``key`` ends; -1 absent, -2 ambiguous (twice, or after a backslash)."""
    i = raw.find(key)
    if i < 0:
        return -1
    if raw.find(key, i + len(key)) >= 0 or (i and raw[i - 1] == "\\"):
        return -2
    return i + len(key)


def route_key(raw: str) -> tuple[int | None, str | None]:
    """``(EventID, channel)`` from raw JSON without decoding it; None where not read exactly.

    The channel is ``""`` when the record has no ``Channel`` key (what the normalisers yield).
    """
    at = _once(raw, '"EventID"')
    if at < 0:
        return None, None
    m = _EID.match(raw, at)
    if m is None:
        return None, None
    eid = int(m[1] or m[2] or m[3])
    at = _once(raw, '"Channel"')
    if at == -1:
        return eid, ""
    if at == -2:
        return eid, None
    m = _CHANNEL.match(raw, at)
    if m is None:
        return eid, None
    return eid, m[1] or ""


def admit(gate: Any, raw: str, stats: RunStats, route: bool = True) -> bool:
    """True: decode this record. False: it was counted (read, and routed away or prefiltered).

    ``route`` False (ECS, whose EventID is ``winlog.event_id``): only the literal prefilter, over
    the literals of every rule.
    """
    if escaped(raw):
        return True
    eid = None
    if route:
        eid, channel = route_key(raw)
        if eid is not None and not gate.wanted(eid, channel):
            stats.records_read += 1
            stats.routed_away += 1
            return False
    scan = gate.scanner(eid)
    if scan is not None and scan.search(raw) is None:
        stats.records_read += 1
        stats.prefiltered += 1
        return False
    return True


def admit_line(gate: Any, line: bytes, stats: RunStats, route: bool = True) -> bool:
    """:func:`admit` for an NDJSON line: only a valid UTF-8 ``{...}`` line may be skipped (a broken
    or truncated one is decoded, so it is still reported as ``bad json``)."""
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return True
    text = text.strip()
    if not text or text[0] != "{" or text[-1] != "}":
        return True
    return admit(gate, text, stats, route)
