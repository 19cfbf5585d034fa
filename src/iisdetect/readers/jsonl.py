"""Shared JSON-lines loop for every JSON shape (evtx-json, flat-json, ecs, splunk-json).

Why one loop: the per-line error policy must be identical everywhere (a bad line is counted under
``bad json`` with ``line N`` and the file goes on), and the hot path must stay minimal: one
``orjson.loads``, one normaliser call, a single try/except around both.
A file whose first non-blank character is ``[`` is a JSON array: it is loaded whole (``item N``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson

from ..accounting import RunStats
from ..events import Event

#: ``normalise(obj, source, locator)`` returns an Event, or None for a row that is not an event.
Normaliser = Callable[[Any, str, str], Event | None]


def read_json(fobj: BinaryIO, source: str, stats: RunStats, normalise: Normaliser) -> Iterator[Event]:
    """Yield Events from NDJSON (or a JSON array) in ``fobj``; count every unusable line."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    skip = stats.skip
    n = 0
    read = 0
    try:
        for line in fobj:
            n += 1
            if n == 1:
                line = line.lstrip(b"\xef\xbb\xbf \t\r\n")
                if line.startswith(b"["):
                    yield from _read_array(line + fobj.read(), source, stats, normalise)
                    return
            try:
                obj = loads(line)
                ev = normalise(obj, source, f"line {n}")
            except decode_error as exc:
                if not line.strip():
                    continue
                skip(source, f"line {n}", "bad json", str(exc))
            except Exception as exc:  # one bad record never stops the file
                skip(source, f"line {n}", "bad record", f"{type(exc).__name__}: {exc}")
            else:
                if ev is None:
                    skip(source, f"line {n}", "not an event", line[:200].decode("utf-8", "replace"))
                else:
                    read += 1
                    yield ev
    finally:
        stats.records_read += read


def _read_array(data: bytes, source: str, stats: RunStats, normalise: Normaliser) -> Iterator[Event]:
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        stats.skip(source, "file", "bad json", f"JSON array does not parse: {exc}")
        return
    read = 0
    try:
        for i, obj in enumerate(items, 1):
            try:
                ev = normalise(obj, source, f"item {i}")
            except Exception as exc:
                stats.skip(source, f"item {i}", "bad record", f"{type(exc).__name__}: {exc}")
            else:
                if ev is None:
                    stats.skip(source, f"item {i}", "not an event", str(obj)[:200])
                else:
                    read += 1
                    yield ev
    finally:
        stats.records_read += read
