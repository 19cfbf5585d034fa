"""Turn command-line paths into readable inputs: files, folder walks, zip members, gz streams, stdin.

Why a separate layer: readers only see ``(name, binary file object)`` so every format works the same
inside a zip, a ``.gz`` or on stdin. Containers are opened in place (nothing is extracted to disk);
their members are named ``archive.zip!member`` so skips and alerts point at the exact file.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .sniff import HEAD_SIZE, Format, container_kind, sniff

#: Extensions that promise event data: such a file of unknown content inside a folder is a failure
#: (``stats.file_failed``); any other unknown file (LICENSE, README.md, *.yaml) is quietly ignored.
DATA_EXTENSIONS = (".evtx", ".json", ".jsonl", ".ndjson", ".xml", ".log", ".gz", ".zip")

#: Largest stream buffered in memory (an EVTX or a zip inside a container, stdin EVTX): beyond it the
#: member is counted as failed rather than risking a decompression bomb.
MAX_BUFFER = 1 << 30


def read_bounded(stream: BinaryIO, what: str) -> bytes:
    """``stream.read()`` up to MAX_BUFFER; OSError beyond (the caller counts the file as failed)."""
    data = stream.read(MAX_BUFFER + 1)
    if len(data) > MAX_BUFFER:
        raise OSError(f"{what} larger than {MAX_BUFFER >> 20} MiB cannot be buffered in memory")
    return data


@dataclass(slots=True)
class Source:
    """One readable input. ``open()`` returns a fresh binary stream positioned at byte 0."""

    name: str
    size: int
    open: Callable[[], BinaryIO]
    path: str | None = None  # real filesystem path when there is one (EVTX reads it natively)
    raw_size: int | None = None  # decompressed size of a zip member: scales its progress to ``size``


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
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def read_head(src: Source) -> bytes:
    """Up to HEAD_SIZE bytes; a stream that breaks early (truncated gzip) still gives its start."""
    chunks: list[bytes] = []
    total = 0
    with src.open() as f:
        try:
            while total < HEAD_SIZE:
                block = f.read1(min(8192, HEAD_SIZE - total))  # type: ignore[attr-defined]
                if not block:
                    break
                chunks.append(block)
                total += len(block)
        except (EOFError, OSError, zlib.error):
            if not chunks:
                raise
    return b"".join(chunks)


def file_source(path: str, display: str | None = None) -> Source:
    size = os.path.getsize(path)
    return Source(display or path, size, lambda: open(path, "rb"), path)  # noqa: SIM115


def stdin_source() -> tuple[Source, bytes]:
    """Stdin as a Source (readable once) plus its first bytes, which the Source replays."""
    raw = sys.stdin.buffer
    head = raw.read(HEAD_SIZE)
    stream = io.BufferedReader(PrefixedReader(head, raw))
    return Source("-", 0, lambda: stream), head


def walk_files(folder: str, onerror: Callable[[OSError], None] | None = None) -> Iterator[str]:
    """Every file under ``folder``, in a stable (sorted) order; unreadable folders go to ``onerror``."""
    for root, dirs, files in os.walk(folder, onerror=onerror):
        dirs.sort()
        for fname in sorted(files):
            yield os.path.join(root, fname)


def _gunzip(src: Source) -> BinaryIO:
    raw = src.open()
    stream = gzip.GzipFile(fileobj=raw, mode="rb")
    stream.myfileobj = raw  # GzipFile closes ``myfileobj`` on close(): no leaked handle
    return stream  # type: ignore[return-value]


def expand_container(src: Source, kind: str) -> Iterator[Source]:
    """Members of a zip (recursively, by the caller) or the stream inside a gzip, as Sources.

    Raises ``OSError``/``zipfile.BadZipFile``/``EOFError`` for a broken container; the caller counts it.
    A nested zip (no filesystem path) is read into memory: zipfile needs to seek.
    """
    if kind == "gzip":
        inner_name = src.name[:-3] if src.name.lower().endswith(".gz") else src.name + "!gunzip"
        yield Source(inner_name, src.size, lambda: _gunzip(src))
        return
    if src.path:
        zf = zipfile.ZipFile(src.path)
    else:
        with src.open() as raw:
            zf = zipfile.ZipFile(io.BytesIO(read_bounded(raw, "nested zip")))
    try:
        members = [i for i in zf.infolist() if not i.is_dir()]
        for info in members:
            yield Source(
                f"{src.name}!{info.filename}",
                info.compress_size,
                lambda info=info: zf.open(info),  # type: ignore[misc]
                raw_size=info.file_size,
            )
    finally:
        zf.close()


def is_data_name(name: str) -> bool:
    return name.lower().endswith(DATA_EXTENSIONS)


def classify(src: Source, head: bytes | None = None) -> tuple[str | None, Format, str, bytes]:
    """``(container kind or None, format, reason, head)`` from the source's first bytes."""
    if head is None:
        head = read_head(src)
    kind = container_kind(head)
    if kind:
        return kind, Format.UNKNOWN, f"{kind} container", head
    fmt, reason = sniff(head, src.name)
    return None, fmt, reason, head
