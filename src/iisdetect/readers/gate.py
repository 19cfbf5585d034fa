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
#: pyevtx's ``"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"`` (its only shape)
#: followed only by other string attributes (a second ``Name`` in an untrusted line: not read)
_PROVIDER = re.compile(r':\{"#attributes":\{"Name":"([^"\\]*)"(?:,"(?!Name")[^"\\]*":"[^"\\]*")*\}')


def escaped(raw: str) -> bool:
    """Does the raw JSON hold a ``\\uXXXX`` or ``\\/`` escape (which could spell any key or literal)?

    A backslash before ``u``/``/`` starts an escape when the run of backslashes it ends is odd
    (``\\\\u`` is an escaped backslash, then ``u``). C-level ``find``: a regex here cost 5x more.
    """
    for pat in ("\\u", "\\/"):
        i = raw.find(pat)
        while i >= 0:
            j = i
            while j and raw[j - 1] == "\\":
                j -= 1
            if not (i - j) % 2:
                return True
            i = raw.find(pat, i + 2)
    return False


def _once(raw: str, key: str) -> int:
    """Where the only occurrence of ``key`` ends; -1 absent, -2 ambiguous (twice, or after a backslash)."""
    i = raw.find(key)
    if i < 0:
        return -1
    if raw.find(key, i + len(key)) >= 0 or (i and raw[i - 1] == "\\"):
        return -2
    return i + len(key)


def event_id_of(raw: str) -> int | None:
    """The record's EventID read from raw JSON, or None where it is not read exactly."""
    at = _once(raw, '"EventID"')
    if at < 0:
        return None
    m = _EID.match(raw, at)
    return None if m is None else int(m[1] or m[2] or m[3])


def channel_of(raw: str) -> str | None:
    """The record's channel from raw JSON (``""`` when it has no ``Channel`` key, as the normalisers
    yield), or None where it is not read exactly."""
    at = _once(raw, '"Channel"')
    if at == -1:
        return ""
    if at == -2:
        return None
    m = _CHANNEL.match(raw, at)
    return None if m is None else (m[1] or "")


def provider_of(raw: str) -> str | None:
    """The provider name from pyevtx-shaped raw JSON (``System.Provider.#attributes.Name``), or None
    where not read exactly (absent, twice, or another shape)."""
    at = _once(raw, '"Provider"')
    if at < 0:
        return None
    m = _PROVIDER.match(raw, at)
    return None if m is None else m[1]


def route_key(raw: str) -> tuple[int | None, str | None]:
    """``(EventID, channel)`` from raw JSON without decoding it; None where not read exactly."""
    eid = event_id_of(raw)
    return (None, None) if eid is None else (eid, channel_of(raw))


def admit(
    gate: Any,
    raw: str,
    stats: RunStats,
    route: bool = True,
    data: bytes | None = None,
    trusted: bool = False,
    provider: bool = False,
) -> bool:
    """True: decode this record. False: it was counted (read, and routed away or prefiltered).

    ``route`` False (ECS, whose EventID is ``winlog.event_id``): only the literal prefilter, over
    the literals of every rule. The channel is read only when the EventID's rules need it.
    ``data``: the same text as UTF-8 bytes when the reader has them (RE2 scans bytes 3x faster).
    ``trusted``: the text comes from pyevtx (serde_json escapes only ``"``, ``\\`` and control
    characters, so no escape can spell a key or a literal and the escape check is not needed).
    ``provider``: the text has pyevtx's shape (EVTX, evtx-json lines), so the provider can be read
    too and rules that name providers can route on channel and provider.
    """
    if not trusted and escaped(raw):
        return True
    eid = event_id_of(raw) if route else None
    if route and eid is None:  # not the shape of an event record: decode it (a non-event is reported)
        return True
    if not route and ('"winlog' not in raw or ("event_id" not in raw and '"code"' not in raw)):
        return True  # what readers/ecs.py needs to call it an event; otherwise "not an event" is owed
    if eid is not None:
        channels = gate.channels(eid)
        if channels is not True:
            away = not channels or not gate.wanted(eid, channel_of(raw))
        elif provider:
            chan = channel_of(raw)
            away = chan is not None and not gate.wanted(eid, chan, provider_of(raw))
        else:
            away = False
        if away:
            stats.records_read += 1
            stats.routed_away += 1
            return False
    scan = gate.scanner(eid)
    if scan is None:
        return True
    if not raw.isascii() and ("\u0130" in raw or "\u212a" in raw):  # lower() makes ASCII i / k of them
        return True
    if not scan(raw.encode() if data is None else data):
        stats.records_read += 1
        stats.prefiltered += 1
        return False
    return True


def admit_line(gate: Any, line: bytes, stats: RunStats, route: bool = True, provider: bool = False) -> bool:
    """:func:`admit` for an NDJSON line: only a valid UTF-8 ``{...}`` line may be skipped (a broken
    or truncated one is decoded, so it is still reported as ``bad json``)."""
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return True
    text = text.strip()
    if not text or text[0] != "{" or text[-1] != "}":
        return True
    return admit(gate, text, stats, route, line, provider=provider)
