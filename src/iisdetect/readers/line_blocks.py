"""Whole lines of a byte stream, a block at a time, without a ``bytes`` object per line (issue 18).

Why not ``block.split(b"\\n")``: CPython splits (and counts) byte by byte, 0.7 ms a MiB here, and
makes a ``bytes`` object of every line; on an NDJSON hunt where routing skips nearly every line
unread that was a third of the time per line. A :class:`LineBlock` keeps the block as one buffer and
where each line ends (found with ``bytes.find``, which is ``memchr``: 0.15 ms a MiB); the reader
slices out only the lines it decodes, and the gate reads the others in place
(:mod:`~.gate_lines`).

A line longer than ``max_line`` is dropped as it streams past (never held whole): its entry is in
:attr:`LineBlock.dropped`. Empty lines are not entries: a gzip of newlines (hostile-inputs) costs one
regex match per run, not a Python step per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

_BOM = b"\xef\xbb\xbf"


class LineBlock(NamedTuple):
    """Some lines of a file: entry ``k`` is ``buf[starts[k]:stops[k]]``, line number
    ``first + (numbers[k] if numbers else k)``. Empty lines are not entries (the reader skips them
    anyway; a run of them costs one regex match, not a step per line); ``numbers`` is None when the
    block had none, so its entries are consecutive lines. A line's final CR (a CRLF file) is not part
    of its entry: it is JSON whitespace, and without it the gate reads the line in place."""

    first: int
    buf: bytes
    starts: list[int]
    stops: list[int]
    numbers: list[int] | None
    dropped: frozenset[int]

    def line(self, k: int) -> bytes:
        return self.buf[self.starts[k] : self.stops[k]]

    def number(self, k: int) -> int:
        return self.first + (self.numbers[k] if self.numbers else k)


def line_blocks(
    block: bytes, read: Callable[[int], bytes], size: int, max_line: int, n: int = 0
) -> Iterator[LineBlock]:
    """The lines of ``block`` and of what ``read(size)`` returns after it, a block at a time.

    ``n``: the number of lines before ``block`` (the first line is ``n + 1``). The bytes after a
    block's last newline are carried into the next block; a line over ``max_line`` is dropped once
    it is known to be (its bytes are not kept) and its entry is in ``dropped``.
    """
    rest = b""
    dropping = False
    if block.startswith(_BOM):
        block = block[3:] or read(size)
    while block:
        last = block.rfind(b"\n")
        if last >= 0:
            buf = rest + block if rest else block
            starts, stops, numbers, count = _lines(buf, len(rest), len(rest) + last, dropping)
            dropped = {0} if dropping else set()
            dropping = False
            if max_line < len(buf):  # only then can a line of this block be too long
                dropped.update(k for k, (a, b) in enumerate(zip(starts, stops, strict=True)) if b - a > max_line)
            # CRLF lines: the CR is JSON whitespace; without it a line ends in "}". (``find`` of one byte
            # is memchr; ``b"\r\n" in buf`` walks the buffer, 0.9 ms a MiB: it halved the NDJSON rate)
            if buf.find(b"\r") >= 0:
                stops = [b - 1 if buf[b - 1] == 13 and b > a else b for a, b in zip(starts, stops, strict=True)]
            if stops:
                yield LineBlock(n + 1, buf, starts, stops, numbers, frozenset(dropped))
            n += count
            rest = b""
            tail = block[last + 1 :]
        else:
            tail = block
        if dropping:
            pass
        elif len(rest) + len(tail) > max_line:
            dropping, rest = True, b""
        else:
            rest = rest + tail if rest else tail
        block = read(size)
    if dropping:
        yield LineBlock(n + 1, b"", [0], [0], None, frozenset({0}))
    elif rest:
        yield LineBlock(n + 1, rest, [0], [len(rest)], None, frozenset())


_RUN = re.compile(rb"\n+")


def _lines(buf: bytes, base: int, last: int, keep_first: bool) -> tuple[list[int], list[int], list[int] | None, int]:
    """``(starts, stops, numbers, lines)`` of the lines of ``buf`` ending at or before ``last`` (its
    last newline); the first newline is at or after ``base``. ``keep_first``: the first line is an
    entry even if empty (the end of a line dropped as too long, which is reported)."""
    find = buf.find
    starts: list[int] = []
    stops: list[int] = []
    numbers: list[int] | None = None
    start = n = 0
    end = last + 1
    i = find(b"\n", base, end)
    if keep_first:
        starts.append(0)
        stops.append(i)
        start, n = i + 1, 1
        i = find(b"\n", start, end) if i < last else -1
    while i >= 0:
        if i == start:  # an empty line, and maybe a run of them
            run = _RUN.match(buf, i, end).end()  # type: ignore[union-attr]
            if numbers is None:
                numbers = list(range(len(stops)))
            n += run - i
            start = run
            i = find(b"\n", run, end) if run < end else -1
            continue
        starts.append(start)
        stops.append(i)
        if numbers is not None:
            numbers.append(n)
        n += 1
        start = i + 1
        i = find(b"\n", start, end) if i < last else -1
    return starts, stops, numbers, n
