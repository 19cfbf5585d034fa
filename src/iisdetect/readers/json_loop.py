"""Shared JSON-lines loop for every JSON shape (evtx-json, flat-json, ecs, splunk-json).

Why one loop: the per-line error policy must be identical everywhere (a bad line is counted under
``bad json`` with ``line N`` and the file goes on), and the hot path must stay minimal: one
``orjson.loads``, one normaliser call, a single try/except around both.
A file whose first non-blank character is ``[`` is a JSON array: it is loaded whole (``item N``).
A file whose first non-blank line is a lone ``{`` or ``Record N`` holds pretty-printed objects
(``evtx_dump -o json``): they are decoded one after another (``line N`` = where each starts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, count
from operator import not_
from typing import Any, BinaryIO

import orjson

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

from .gate import PREFILTERED, ROUTED_AWAY, add_skips
from .gate_lines import block_verdicts
from .limits import LIMITS
from .line_blocks import line_blocks

#: ``normalise(obj, source, locator)`` returns an Event, or None for a row that is not an event.
Normaliser = Callable[[Any, str, str], Event | None]


def read_json(
    fobj: BinaryIO,
    source: str,
    stats: RunStats,
    normalise: Normaliser,
    gate: Any = None,
    route: bool = True,
    provider: bool = False,
) -> Iterator[Event]:
    """Yield Events from NDJSON (or a JSON array / pretty-printed objects) in ``fobj``.

    Lines come from 1 MiB blocks (readers/line_blocks.py: a run of empty lines costs one regex match,
    so a gzip of newlines is cheap); a line longer than ``LIMITS.max_line`` is dropped as it streams
    past (never held whole) and counted (``line too long``). With a gate, a block's verdicts come from
    one scan (readers/gate_lines.py) and only the lines left to decode are sliced out. A
    whole-document shape is read up to ``LIMITS.max_document``.
    ``gate`` (a hunt's) lets lines be skipped before decoding (readers/gate.py; ``route`` False: no
    EventID routing, only the literal prefilter; ``provider``: lines of pyevtx's shape, whose provider
    can be read raw).

    A stream with an ``iisdetect_first_line`` attribute is a byte range of whole lines of an NDJSON
    file (``--jobs``, hunting/parallel.py): no shape detection, and line numbers start there.
    """
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    skip = stats.skip
    read = _Reader(getattr(fobj, "read1", fobj.read))  # one raw read: a stream that breaks keeps what it had
    block = start_block = _at_least(read, 4096)
    first = getattr(fobj, "iisdetect_first_line", None)
    start = block.lstrip(b"\xef\xbb\xbf \t\r\n")
    blank = 0  # lines in blank blocks left behind (line numbers stay the file's)
    while first is None and not start and block:  # a long run of blank lines before the first record
        blank += block.count(b"\n")
        block = start_block = _at_least(read, 4096)
        start = block.lstrip(b" \t\r\n")
    lead = blank + block[: len(block) - len(start)].count(b"\n")
    if first is None and not is_json_lines(start):
        data = _document(start, fobj, source, stats)
        if data is None:
            return
        if start.startswith(b"["):
            yield from _read_array(data, source, stats, normalise)
        else:
            yield from _read_concatenated(data, lead + 1, source, stats, normalise)
        return
    skips = [0, 0, 0]  # the gate's skips by verdict, counted here and added in ``finally``
    verdicts: list[int] = []
    k = -1  # the line of the block being read (its skips after it are not counted if we stop there)
    try:
        for lines in line_blocks(start_block, read, BLOCK, LIMITS.max_line, (first or 1) - 1 + blank):
            n0, buf, starts, stops, numbers, dropped = lines
            if gate is None:
                todo: Iterable[int] = range(len(stops))
            else:
                verdicts = block_verdicts(gate, lines, route, provider)
                skips[ROUTED_AWAY] += verdicts.count(ROUTED_AWAY)
                skips[PREFILTERED] += verdicts.count(PREFILTERED)
                todo = compress(count(), map(not_, verdicts))
            for k in todo:
                n = n0 + (numbers[k] if numbers else k)
                if k in dropped:
                    skip(source, f"line {n}", "line too long", f"longer than {LIMITS.max_line} bytes (max_line)")
                    continue
                line = buf[starts[k] : stops[k]]
                if not line or line.isspace():
                    continue
                try:
                    obj = loads(line)
                    ev = normalise(obj, source, f"line {n}")
                except decode_error as exc:
                    skip(source, f"line {n}", "bad json", str(exc))
                except Exception as exc:  # one bad record never stops the file
                    skip(source, f"line {n}", "bad record", f"{type(exc).__name__}: {exc}")
                else:
                    if ev is None:
                        skip(source, f"line {n}", "not an event", line[:200].decode("utf-8", "replace"))
                    else:
                        stats.records_read += 1
                        yield ev
            verdicts = []
    finally:
        if verdicts:  # stopped inside a block: its skips past the line in hand were never reached
            later = verdicts[k + 1 :]
            skips[ROUTED_AWAY] -= later.count(ROUTED_AWAY)
            skips[PREFILTERED] -= later.count(PREFILTERED)
        add_skips(stats, skips)


def is_json_lines(start: bytes) -> bool:
    """Whether a file whose first non-blank bytes are ``start`` is read line by line (not a JSON array,
    not pretty-printed objects): only such a file can be split into byte ranges."""
    first_line = start.split(b"\n", 1)[0]
    return not (start.startswith(b"[") or first_line.rstrip() == b"{" or _RECORD_HEADER.match(first_line))


BLOCK = 1 << 20


class _Reader:
    """``read1`` whose error, once some bytes are in hand, is raised on the next call instead."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self.error: BaseException | None = None

    def __call__(self, n: int) -> bytes:
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        return self._read(n)


def _at_least(read: _Reader, size: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while total < size:
        try:
            block = read(BLOCK)
        except Exception as exc:
            if not parts:
                raise
            read.error = exc
            break
        if not block:
            break
        parts.append(block)
        total += len(block)
    return b"".join(parts)


def _document(start: bytes, fobj: BinaryIO, source: str, stats: RunStats) -> bytes | None:
    """A whole-document JSON file, bounded by ``LIMITS.max_document`` (else counted, None)."""
    cap = LIMITS.max_document
    data = start + fobj.read(max(0, cap + 1 - len(start)))
    if len(data) > cap:
        stats.file_failed(source, "limit exceeded", f"JSON array / pretty-printed file over {cap} bytes (max_document)")
        return None
    return data


_RECORD_HEADER = re.compile(rb"Record \d+\s*$")
_OBJECT_START = re.compile(r"^(?:Record \d+|\{)\s*$", re.M)
_GAP = re.compile(r"(?:\s|Record \d+)*")


def _read_concatenated(
    data: bytes, first_line: int, source: str, stats: RunStats, normalise: Normaliser
) -> Iterator[Event]:
    """Pretty-printed objects one after another (``evtx_dump -o json``: ``Record N`` then ``{...}``).

    Rare and small, so the stdlib decoder is fine; locator is the line where each object starts.
    The stdlib accepts lone surrogate escapes (``"\\ud800"``) that no UTF-8 output can encode (orjson
    and every writer refuse them): such strings get U+FFFD and the record a warning, never a crash.
    """
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    pos = _GAP.match(text, 0).end()  # type: ignore[union-attr]
    line, counted = first_line, 0
    warned = False
    while pos < len(text):
        line += text.count("\n", counted, pos)
        counted = pos
        where = f"line {line}"
        try:
            obj, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as exc:
            rest = _OBJECT_START.findall(text, pos)  # every further object start is a record lost here
            stats.skip(source, where, "bad json", f"{type(exc).__name__}: {exc}"[:200], count=max(1, len(rest)))
            return  # no way to resynchronise inside a broken pretty-printed object
        if _SURROGATE.search(text, pos, end):
            obj = _no_surrogates(obj)
            if not warned:
                stats.warn(f"{source}: lone UTF-16 surrogate escapes replaced by U+FFFD (first at {where})")
                warned = True
        try:
            ev = normalise(obj, source, where)
        except Exception as exc:
            stats.skip(source, where, "bad record", f"{type(exc).__name__}: {exc}")
        else:
            if ev is None:
                stats.skip(source, where, "not an event", str(obj)[:200])
            else:
                stats.records_read += 1
                yield ev
        pos = _GAP.match(text, end).end()  # type: ignore[union-attr]


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[\ud800-\udfff]")


def _no_surrogates(obj: Any) -> Any:
    """Strings with lone surrogates re-paired where valid, else replaced by U+FFFD (keys too)."""
    if isinstance(obj, str):
        return obj.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(obj, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_surrogates(v) for v in obj]
    return obj


def _read_array(data: bytes, source: str, stats: RunStats, normalise: Normaliser) -> Iterator[Event]:
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        stats.skip(source, "file", "bad json", f"JSON array does not parse: {exc}")
        return
    if not isinstance(items, list):
        items = [items]
    for i, obj in enumerate(items, 1):
        try:
            ev = normalise(obj, source, f"item {i}")
        except Exception as exc:
            stats.skip(source, f"item {i}", "bad record", f"{type(exc).__name__}: {exc}")
        else:
            if ev is None:
                stats.skip(source, f"item {i}", "not an event", str(obj)[:200])
            else:
                stats.records_read += 1
                yield ev
