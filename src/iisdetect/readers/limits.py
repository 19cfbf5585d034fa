"""Resource bounds on hostile input (docs/limits.md): the one :data:`LIMITS` object and its setters.

Why a module of its own: every reader, stream wrapper and container opener reads its bound from the
same :data:`LIMITS` instance *at call time* (``LIMITS.max_line``, never a copy taken at import), so
``--limit NAME=VALUE`` (:func:`set_limit`) and tests that set attributes on it reach every reader.
Nothing here imports the rest of the package, so any reader module can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import BinaryIO


@dataclass
class Limits:
    """Resource bounds on hostile input; every one is documented in docs/limits.md and can be raised."""

    max_line: int = 64 << 20  #: bytes in one JSON line or one XML ``<Event>`` element
    max_document: int = 256 << 20  #: a JSON array or pretty-printed JSON file, parsed whole
    max_buffer: int = 256 << 20  #: a nested zip (or a container on stdin) buffered in memory to seek
    max_member: int = 16 << 30  #: decompressed bytes of one member or stream
    max_ratio: int = 200  #: decompressed / compressed bytes, checked past ``ratio_floor``
    ratio_floor: int = 64 << 20  #: bytes a stream may expand to before the ratio is checked
    max_depth: int = 4  #: containers inside containers


#: the only instance: mutated in place by :func:`set_limit` (and by tests), never replaced or copied
LIMITS = Limits()


def __getattr__(name: str) -> int:
    """``MAX_BUFFER``, kept for callers that still name it, read live from :data:`LIMITS`.

    It used to be a copy taken at import, so a ``--limit max_buffer=...`` never reached it.
    """
    if name == "MAX_BUFFER":
        return LIMITS.max_buffer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LimitExceeded(OSError):
    """Input beyond a resource limit: the member is skipped and counted, never read unbounded."""


def set_limit(assignment: str) -> None:
    """``NAME=VALUE`` from ``--limit`` (VALUE may end in K, M or G); one-line ValueError otherwise."""
    name, _, raw = assignment.partition("=")
    names = {f.name for f in fields(Limits)}
    if name not in names or not raw:
        raise ValueError(f"bad --limit {assignment!r}: use NAME=VALUE with NAME one of {', '.join(sorted(names))}")
    setattr(LIMITS, name, parse_size(raw, assignment))


def parse_size(raw: str, assignment: str = "") -> int:
    """A positive whole number, optionally ending in K, M or G (binary multiples)."""
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(raw[-1:].lower(), 1)
    try:
        value = int(raw[:-1] if mult > 1 else raw) * mult
    except ValueError:
        raise ValueError(f"bad --limit {assignment!r}: VALUE must be a whole number (K/M/G allowed)") from None
    if value < 1:
        raise ValueError(f"bad --limit {assignment!r}: VALUE must be positive")
    return value


def read_bounded(stream: BinaryIO, what: str) -> bytes:
    """``stream.read()`` up to ``LIMITS.max_buffer``; LimitExceeded beyond (the caller counts the file)."""
    cap = LIMITS.max_buffer
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise LimitExceeded(f"{what} larger than {cap >> 20} MiB cannot be buffered in memory (max_buffer)")
    return data
