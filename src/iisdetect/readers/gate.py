"""Reading EventID and channel from a record's raw JSON text, and the skip decision before decoding.

Why here: the readers own the raw text (pyevtx's JSON string, an NDJSON line); the hunt hands them
a :class:`~iisdetect.engine.prefilter.RecordGate` and they ask :func:`admit` before ``orjson.loads``.
Only a hunt passes a gate: ``stack``/``convert``/``aql``/``audit`` read every record.

The raw extraction must give the value the normaliser would (docs/hunt.md): the key must occur
exactly once in the record (an EventData field named ``EventID`` makes it ambiguous), not after a
backslash, with a plain decimal value (``4688``, ``"4688"``, pyevtx's
``{"#attributes":{"Qualifiers":..},"#text":7036}``); a record with a ``\\u``/``\\/`` escape anywhere
(a key can be spelled ``"\\u0045ventID"``) is not routed. Anything else: the record is decoded.
For pyevtx's records :func:`verdict_text` first tries a cheaper, equally exact read: the EventID right
after a prefix verified against the shape Windows writes (System first, its Provider first in it).
"""

from __future__ import annotations

import re
from typing import Any

from iisdetect.engine.literal_scan import compile_marks, compile_pattern_hit
from iisdetect.model.stats import RunStats

_EID = re.compile(
    rb'\s*:\s*(?:(0|[1-9][0-9]{0,9})|"([0-9]{1,10})"'
    rb'|\{"#attributes":\{"Qualifiers":(?:[0-9]+|null|"[0-9]*")\},"#text":(0|[1-9][0-9]{0,9})\})\s*[,}]'
)
_CHANNEL = re.compile(rb'\s*:\s*(?:"([^"\\]*)"|null)\s*[,}]')
#: pyevtx's ``"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"`` (its only shape)
#: followed only by other string attributes (a second ``Name`` in an untrusted line: not read)
_PROVIDER = re.compile(rb':\{"#attributes":\{"Name":"([^"\\]*)"(?:,"(?!Name")[^"\\]*":"[^"\\]*")*\}')


def _bytes(raw: str | bytes) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw


#: An odd run of backslashes (after the start or a non-backslash) before ``u`` or ``/``: an escape
_ESCAPE = rb"(?:^|[^\\])(?:\\\\)*\\[u/]"
_escape_hit = compile_pattern_hit(_ESCAPE)


def escaped(raw: str | bytes) -> bool:
    """Does the raw JSON hold a ``\\uXXXX`` or ``\\/`` escape (which could spell any key or literal)?

    A backslash before ``u``/``/`` starts an escape when the run of backslashes it ends is odd
    (``\\\\u`` is an escaped backslash, then ``u``). One Hyperscan pass of :data:`_ESCAPE` where
    installed (1.0 us on a 1.9 KB OTRF line), else C-level ``find`` (3.7 us there: real lines hold
    about 175 backslashes; a Python ``re``/RE2 search was slower still).
    """
    data = _bytes(raw)
    if _escape_hit is not None:
        return _escape_hit(data)
    return escaped_by_find(data)


def escaped_by_find(data: bytes) -> bool:
    """:func:`escaped` without Hyperscan (and the reference the tests hold the pattern to)."""
    for pat in (b"\\u", b"\\/"):
        i = data.find(pat)
        while i >= 0:
            j = i
            while j and data[j - 1] == 92:  # a backslash
                j -= 1
            if not (i - j) % 2:
                return True
            i = data.find(pat, i + 2)
    return False


def _once(data: bytes, key: bytes) -> int:
    """Where the only occurrence of ``key`` ends; -1 absent, -2 ambiguous (twice, or after a backslash)."""
    i = data.find(key)
    if i < 0:
        return -1
    if data.find(key, i + len(key)) >= 0 or (i and data[i - 1] == 92):
        return -2
    return i + len(key)


def event_id_of(raw: str | bytes) -> int | None:
    """The record's EventID read from raw JSON, or None where it is not read exactly."""
    data = _bytes(raw)
    at = _once(data, b'"EventID"')
    return None if at < 0 else _eid_after(data, at)


def channel_of(raw: str | bytes) -> str | None:
    """The record's channel from raw JSON (``""`` when it has no ``Channel`` key, as the normalisers
    yield), or None where it is not read exactly."""
    data = _bytes(raw)
    at = _once(data, b'"Channel"')
    if at == -1:
        return ""
    if at == -2:
        return None
    m = _CHANNEL.match(data, at)
    if m is None:
        return None
    name = m[1] or b""
    # a non-ASCII name is not read: the bytes may be UTF-8 or Latin-1 (the EVTX reader's fast
    # encoding), and decoding is then the normaliser's job (such a record is not routed on it)
    return name.decode("ascii") if name.isascii() else None


def provider_of(raw: str | bytes) -> str | None:
    """The provider name from pyevtx-shaped raw JSON (``System.Provider.#attributes.Name``), or None
    where not read exactly (absent, twice, or another shape)."""
    data = _bytes(raw)
    at = _once(data, b'"Provider"')
    if at < 0:
        return None
    m = _PROVIDER.match(data, at)
    return None if m is None or not m[1].isascii() else m[1].decode("ascii")


def route_key(raw: str | bytes) -> tuple[int | None, str | None]:
    """``(EventID, channel)`` from raw JSON without decoding it; None where not read exactly."""
    data = _bytes(raw)
    eid = event_id_of(data)
    return (None, None) if eid is None else (eid, channel_of(data))


def admit(
    gate: Any,
    raw: str | bytes,
    stats: RunStats,
    route: bool = True,
    trusted: bool = False,
    provider: bool = False,
) -> bool:
    """True: decode this record. False: it was counted (read, and routed away or prefiltered).

    ``raw`` is the record's JSON text, best as bytes (a ``str`` is encoded first): every test here
    runs on bytes, one byte a character for ASCII text whatever else the text holds.
    ``route`` False (ECS, whose EventID is ``winlog.event_id``): only the literal prefilter, over
    the literals of every rule. The channel is read only when the EventID's rules need it.
    ``trusted``: the text comes from pyevtx (serde_json escapes only ``"``, ``\\`` and control
    characters, so no escape can spell a key or a literal and the escape check is not needed).
    ``provider``: the text has pyevtx's shape (EVTX, evtx-json lines), so the provider can be read
    too and rules that name providers can route on channel and provider.
    """
    return counted(verdict(gate, _bytes(raw), route, trusted, provider), stats)


#: The gate's answers (:func:`verdict` and its inlined forms): decode the record, or the counter its skip goes to.
DECODE, ROUTED_AWAY, PREFILTERED = 0, 1, 2


def add_skips(stats: RunStats, skips: list[int]) -> None:
    """Add a reader's tally of verdicts (``skips[verdict] += 1`` per skipped record, kept in a local
    list on the hot path) to ``stats``: each skip is a read record, routed away or prefiltered."""
    stats.records_read += skips[ROUTED_AWAY] + skips[PREFILTERED]
    stats.routed_away += skips[ROUTED_AWAY]
    stats.prefiltered += skips[PREFILTERED]


def counted(answer: int, stats: RunStats) -> bool:
    """True for :data:`DECODE`; else the skip is counted (read, and routed away or prefiltered)."""
    if answer == DECODE:
        return True
    stats.records_read += 1
    if answer == ROUTED_AWAY:
        stats.routed_away += 1
    else:
        stats.prefiltered += 1
    return False


def _verdict(gate: Any, eid: int | None, data: bytes, provider: bool, plan: Any = None) -> int:
    """:data:`DECODE`, :data:`ROUTED_AWAY` or :data:`PREFILTERED` for a record whose EventID is read
    (``plan``: ``gate.plan(eid)`` when the caller already has it)."""
    channels, scan = plan or gate.plans.get(eid) or gate.plan(eid)
    if not channels:  # no rule takes this EventID at all
        return ROUTED_AWAY
    # the literal scan before the channel: it decides most records, and reading the channel costs
    # more than the scan (two finds over the whole text); a record both would skip is prefiltered
    if scan is not None and not scan(data):  # no rule literal (nor U+0130 / U+212A: FOLDS_TO_ASCII)
        return PREFILTERED
    if eid is not None and _channel_away(gate, eid, channels, data, provider):
        return ROUTED_AWAY
    return DECODE


def _channel_away(gate: Any, eid: int, channels: Any, data: bytes, provider: bool) -> bool:
    """No rule admitting ``eid`` takes this record's channel (nor, with ``provider``, its provider)."""
    if channels is not True:
        return not gate.wanted(eid, channel_of(data))
    if not provider:
        return False
    chan = channel_of(data)
    # the channel alone ("" names no provider) usually settles it; the provider is read only if not
    return chan is not None and not gate.wanted(eid, chan, "") and not gate.wanted(eid, chan, provider_of(data))


#: ``the 12 bytes after "EventID" -> EventID`` for the shapes :data:`_EID` reads within them
#: (pyevtx writes ``"EventID":4624,"Vers``): a dict lookup instead of a regex match and ``int``.
_EID_BY_TEXT: dict[bytes, int] = {}
_EID_TEXT = 12


def verdict_pyevtx(gate: Any, data: bytes) -> int:
    """``admit(gate, data, stats, trusted=True, provider=True)`` as a verdict, with the EventID read
    inlined and nothing counted: the EVTX reader asks it for every record and counts the skips of a
    chunk itself; on a Security log (where routing skips nearly every record) the saved Python
    frames and attribute writes are a large part of the hunt's own time.

    ``data`` is the record's text as UTF-8, or as Latin-1 when every character fits (a plain copy of
    a one-byte ``str``, where UTF-8 must re-encode the ``®`` most Sysmon records hold): the keys,
    the EventID and the literals are ASCII, so both encodings give the same answers, and a record
    holding U+0130 or U+212A cannot be Latin-1. tests/readers/test_gate.py holds this to
    :func:`admit`'s answers and counts.
    """
    find = data.find
    i = find(b'"EventID"')
    if i < 0 or find(b'"EventID"', i + 9) >= 0 or (i and data[i - 1] == 92):
        return DECODE
    return _verdict_at(gate, data, i + 9, True)


#: What precedes System's EventID in a record pyevtx renders, as a shape: the Event's attributes, then
#: ``"System":{"Provider":{"#attributes":{...}},"EventID"``, every attribute a plain string (no quote
#: nor backslash inside, so no value can fake structure). A text that starts with such a prefix has
#: its first ``"EventID"`` key right there, as System's own key: the key need not be searched for, nor
#: proved unique (a later ``EventData`` field of that name does not change System's EventID).
_ATTRS = r'\{"[^"\\]*":"[^"\\]*"(?:,"[^"\\]*":"[^"\\]*")*\}'
_PREFIX_SHAPE = re.compile(
    rf'\{{"Event":\{{(?:"#attributes":{_ATTRS},)?"System":\{{"Provider":\{{"#attributes":{_ATTRS}\}},"EventID"\Z'
)
#: verified prefixes, the one a record last started with first (one per provider; bounded: a hostile file only evicts)
_PREFIXES: list[str] = []
_MAX_PREFIXES = 8
#: a real prefix is about 220 characters; a longer one (a crafted giant attribute) is not kept
_MAX_PREFIX = 1024
#: :data:`_EID_BY_TEXT` for text: the 12 characters after the key -> EventID
_EID_BY_STR: dict[str, int] = {}


def verdict_text(gate: Any, text: str) -> int:
    """:func:`verdict_pyevtx` for the record's text as pyevtx returns it (a ``str``), with the
    EventID read before any encoding.

    Why: on a Security log routing skips nearly every record by its EventID alone, and finding the
    key (twice, to prove it unique) and encoding the text cost more than the rest of the gate. A
    record that starts with a prefix already verified against :data:`_PREFIX_SHAPE` (every record of
    one provider shares it) has its EventID at a known place; the text is encoded only when the
    literal scan needs bytes. Anything else takes :func:`verdict_pyevtx`'s path.
    tests/readers/test_gate_text.py holds the two to the same answers on the corpus's records.
    """
    if _PREFIXES and text.startswith(_PREFIXES[0]):
        i = len(_PREFIXES[0])
    else:
        i = _other_prefix(text)
        if i < 0:
            return verdict_pyevtx(gate, _encoded(text))
    eid = _EID_BY_STR.get(text[i : i + _EID_TEXT])
    if eid is None:
        eid = _eid_after(text[i : i + _EID_TEXT].encode(), 0)
        if eid is None:  # not decided within 12 characters: the full path reads it
            return verdict_pyevtx(gate, _encoded(text))
        if len(_EID_BY_STR) < 4096:
            _EID_BY_STR[text[i : i + _EID_TEXT]] = eid
    return verdict_eid(gate, eid, text)


def verdict_eid(gate: Any, eid: int, text: str) -> int:
    """:func:`verdict_text`'s answer for a record whose EventID was read at a verified prefix (the
    EVTX reader's inlined test reads it so, and must not read it twice)."""
    plan = gate.plans.get(eid) or gate.plan(eid)
    if not plan[0]:  # no rule takes this EventID (most of a Security log)
        return ROUTED_AWAY
    return _verdict(gate, eid, _encoded(text), True, plan)


#: public names for the reader's inlined first test (readers/evtx.py ``_parse_chunk``)
EID_BY_STR, EID_TEXT = _EID_BY_STR, _EID_TEXT
#: a prefix no record starts with (a record's text starts with ``{``)
_NO_PREFIX = "\x00"


def inline_tests(gate: Any) -> tuple[str, frozenset[int | None], dict[int | None, Any]]:
    """What the EVTX reader tests inline, as far as the gate knows it now: the prefix a record last
    started with, the EventIDs no rule takes and the literal scans of the EventIDs some rule takes
    (``RecordGate.routed_away``, ``RecordGate.literal_scans``).

    Why: a record that starts with that prefix has its EventID at a known place (read as
    :func:`verdict_text` reads it). If no rule takes it, the record is routed away; if its scan finds
    no literal in the record's bytes (encoded as :func:`_encoded` does), it is prefiltered. Those are
    :func:`verdict_eid`'s first two answers, and they decide nearly every record of a Security log
    (the first) and of a Sysmon log (the second): tested inline, they save the calls a record costs
    (on a Sysmon record, two calls instead of four). Anything else (another provider, an EventID not met yet, a scan
    that hits) asks :func:`verdict_text` or :func:`verdict_eid`.
    """
    if gate is None or not _PREFIXES:
        return _NO_PREFIX, frozenset(), {}
    return _PREFIXES[0], gate.routed_away(), gate.literal_scans()


def first_prefix() -> str:
    """The prefix a record last started with (after :func:`verdict_text` answered for it)."""
    return _PREFIXES[0] if _PREFIXES else _NO_PREFIX


def _other_prefix(text: str) -> int:
    """Where a known prefix other than the first ends in ``text`` (it is moved first: the records of a
    chunk are mostly of one provider), or a new one's (:func:`_learn`), or -1."""
    for j, pre in enumerate(_PREFIXES):
        if j and text.startswith(pre):
            _PREFIXES.insert(0, _PREFIXES.pop(j))
            return len(pre)
    return _learn(text)


def _learn(text: str) -> int:
    """Verify the text before the first ``"EventID"`` against :data:`_PREFIX_SHAPE` and keep it;
    where the key ends, or -1 (no such prefix: the record takes the generic path)."""
    i = text.find('"EventID"', 0, _MAX_PREFIX)
    if i < 0 or not _PREFIX_SHAPE.match(text, 0, i + 9):
        return -1
    _PREFIXES.insert(0, text[: i + 9])
    del _PREFIXES[_MAX_PREFIXES:]
    return i + 9


def _encoded(text: str) -> bytes:
    """Latin-1 bytes when every character fits (a copy of a one-byte ``str``), else UTF-8: the keys,
    EventIDs and literals are ASCII, so both give the same answers (:func:`verdict_pyevtx`)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def _verdict_at(gate: Any, data: bytes, i: int, provider: bool) -> int:
    """The verdict of a record whose one ``"EventID"`` key ends at ``i`` (the EventID read after it)."""
    eid = _EID_BY_TEXT.get(data[i : i + _EID_TEXT])
    if eid is None:
        eid = _eid_after(data, i)
        if eid is None:
            return DECODE
    plan = gate.plans.get(eid) or gate.plan(eid)
    if not plan[0]:  # no rule takes this EventID (most of a Security log)
        return ROUTED_AWAY
    return _verdict(gate, eid, data, provider, plan)


def _eid_after(data: bytes, i: int) -> int | None:
    """The EventID written after a key ending at ``i`` (None: not a plain decimal value), kept in
    :data:`_EID_BY_TEXT` when the match is decided within its 12 bytes (the same bytes then always
    give the same EventID)."""
    m = _EID.match(data, i)
    if m is None:
        return None
    eid = int(m[1] or m[2] or m[3])
    if m.end() - i <= _EID_TEXT and len(_EID_BY_TEXT) < 4096:
        _EID_BY_TEXT[data[i : i + _EID_TEXT]] = eid
    return eid


#: One Hyperscan pass over an NDJSON line: pattern 0 the escape test, pattern 1 each ``"EventID"``.
_LINE_MARKS = compile_marks([(_ESCAPE, True), (b'"EventID"', False)])


def verdict_line(gate: Any, line: bytes, route: bool = True, provider: bool = False) -> int:
    """:func:`admit` for an NDJSON line, as a verdict (nothing counted: the reader counts per block).

    Only a valid UTF-8 ``{...}`` line may be skipped (a broken or truncated one is decoded, so it is
    still reported as ``bad json``). Where Hyperscan is installed, the escape test and the EventID
    key's position and uniqueness come from one scan (:data:`_LINE_MARKS`); the answers are those of
    :func:`admit` (tests/readers/test_gate.py holds them to it).
    """
    text = line if line[:1] == b"{" and line[-1:] == b"}" else line.strip()
    if not text or text[:1] != b"{" or text[-1:] != b"}":
        return DECODE
    if not text.isascii():
        try:
            text.decode()
        except UnicodeDecodeError:
            return DECODE
    if not route or _LINE_MARKS is None:
        return verdict(gate, text, route, False, provider)
    ids, ends = _LINE_MARKS(text)
    if len(ends) != 1 or ids[0] != 1:  # an escape, or the key absent or twice
        return DECODE
    i = ends[0]
    if text[i - 10] == 92:  # the key after a backslash (i - 9 is its opening quote; a line starts with "{")
        return DECODE
    return _verdict_at(gate, text, i, provider)


def verdict(gate: Any, data: bytes, route: bool = True, trusted: bool = False, provider: bool = False) -> int:
    """:func:`admit`'s decision as a verdict (:data:`DECODE`, :data:`ROUTED_AWAY`, :data:`PREFILTERED`)."""
    if not trusted and escaped(data):
        return DECODE
    eid = event_id_of(data) if route else None
    if route and eid is None:  # not the shape of an event record: decode it (a non-event is reported)
        return DECODE
    if not route and (b'"winlog' not in data or (b"event_id" not in data and b'"code"' not in data)):
        return DECODE  # what readers/ecs.py needs to call it an event; otherwise "not an event" is owed
    return _verdict(gate, eid, data, provider)
