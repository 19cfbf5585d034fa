"""Stream wrappers the readers see: progress counting, replayed heads, UTF-16 transcoding, bounds.

Why a module of its own: each wrapper is a small ``io.RawIOBase`` that changes one thing about a
binary stream, and :mod:`.sources` stacks them (a counter under a decompressor under a bound). The
decompression bound, :class:`LimitedReader`, reads :data:`~.limits.LIMITS` on every read call, so a
limit changed after import (``--limit``, tests) applies to streams opened later and to open ones.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from .limits import LIMITS, LimitExceeded


class CountingReader(io.RawIOBase):
    """Binary stream wrapper that reports consumed bytes (the progress bar), once per read call."""

    def __init__(self, raw: BinaryIO, report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # pyevtx seeks between chunks
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        if n:
            self._report(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class ScaledProgress:
    """Report decompressed bytes as a share of the compressed size, so the bar moves smoothly."""

    def __init__(self, report: Callable[[int], None], size: int, raw_size: int) -> None:
        self._report = report
        self._size = size
        self._raw = max(1, raw_size)
        self._seen = 0
        self._sent = 0

    def __call__(self, n: int) -> None:
        self._seen += n
        target = min(self._size, self._seen * self._size // self._raw)
        if target > self._sent:
            self._report(target - self._sent)
            self._sent = target

    def finish(self) -> None:
        if self._size > self._sent:
            self._report(self._size - self._sent)
            self._sent = self._size


class Budget:
    """Progress of one file on disk: never more than its size, topped up to it when done."""

    def __init__(self, size: int, report: Callable[[int], None]) -> None:
        self._left = size
        self._report = report

    def __call__(self, n: int) -> None:
        n = min(n, self._left)
        if n > 0:
            self._left -= n
            self._report(n)

    def finish(self) -> None:
        self(self._left)


class PrefixedReader(io.RawIOBase):
    """A stream that replays ``head`` before the rest of ``raw``: sniffing stdin without seeking."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._raw.read(len(b))
        b[: len(data)] = data
        return len(data)


class Utf16ToUtf8(io.RawIOBase):
    """UTF-16 text (PowerShell ``>`` redirection, some wevtutil exports) re-encoded as UTF-8 bytes.

    Undecodable code units (an odd trailing byte, a lone surrogate) become U+FFFD instead of ending
    the file (a strict decoder lost the whole last 64 K-character block); ``replaced`` counts them so
    the caller can say so.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._text = io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline="")
        self._pending = b""
        self.replaced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            text = self._text.read(1 << 16)
            if not text:
                return 0
            self.replaced += text.count("\ufffd")
            self._pending = text.encode("utf-8")
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._text.close()
        super().close()


def is_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark: such text is transcoded (:class:`Utf16ToUtf8`) before any reader sees it."""
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


class LimitedReader(io.RawIOBase):
    """A decompressed stream that stops at ``LIMITS.max_member`` bytes or at a bomb's expansion ratio.

    ``compressed`` returns the compressed bytes behind the data so far (a counter on the raw stream,
    or a zip member's stored size), so the ratio check works on stdin too.
    """

    def __init__(self, raw: BinaryIO, name: str, compressed: Callable[[], int]) -> None:
        self._raw = raw
        self._name = name
        self._compressed = compressed
        self._read = getattr(raw, "read1", raw.read)
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._read(len(b))  # read1: a stream that breaks mid-call still hands over what it had
        n = len(data)
        b[:n] = data
        self.out += n
        lim = LIMITS
        if self.out > lim.max_member:
            raise LimitExceeded(f"{self._name}: decompresses to more than {lim.max_member} bytes (max_member)")
        if self.out > lim.ratio_floor and self.out > lim.max_ratio * max(1, self._compressed()):
            raise LimitExceeded(
                f"{self._name}: expands more than {lim.max_ratio}x its compressed size (max_ratio; a bomb?)"
            )
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class Unclosed(io.RawIOBase):
    """A view of a stream whose close() leaves the stream open (peeking at a read-once head)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        return self._raw.read1(n)  # type: ignore[attr-defined]

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read1(len(b))  # type: ignore[attr-defined]
        b[: len(data)] = data
        return len(data)


class Counted(io.RawIOBase):
    """Counts bytes read from a compressed file (the denominator of the expansion ratio)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.n = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        b[: len(data)] = data
        self.n += len(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()
