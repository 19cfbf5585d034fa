"""Turn command-line paths into readable inputs: files, folder walks, containers, stdin.

Why a separate layer: readers only see ``(name, binary file object)`` so every format works the same
inside a container or on stdin. Containers are recognised by content and opened in place (nothing is
extracted to disk): ``.zip`` and ``.tar`` members are named ``archive.zip!member``, the stream inside
``.gz``/``.bz2``/``.xz`` is ``x.json.gz`` -> ``x.json`` (so ``.tar.gz``/``.tgz`` is a tar inside a
gzip), so skips and alerts point at the exact file.

Every decompressed stream is bounded (:data:`LIMITS`, docs/limits.md): a member larger than
``max_member`` bytes, or expanding more than ``max_ratio`` times its compressed size once past
``ratio_floor`` bytes, or nested deeper than ``max_depth`` containers, stops with
:class:`LimitExceeded`; the caller counts it as a failed file (``limit exceeded``) and goes on.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import BinaryIO

from .sniff import HEAD_SIZE, Format, container_kind, sniff

#: Extensions that promise event data: such a file of unknown content inside a folder is a failure
#: (``stats.file_failed``); any other unknown file (LICENSE, README.md, *.yaml) is quietly ignored.
DATA_EXTENSIONS = (".evtx", ".json", ".jsonl", ".ndjson", ".xml", ".log", ".gz", ".zip", ".tar", ".tgz",
                   ".bz2", ".xz")  # fmt: skip


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


LIMITS = Limits()
#: kept for callers that still name it: the in-memory buffer bound
MAX_BUFFER = LIMITS.max_buffer


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


@dataclass(slots=True)
class Source:
    """One readable input. ``open()`` returns a fresh binary stream positioned at byte 0."""

    name: str
    size: int
    open: Callable[[], BinaryIO]
    path: str | None = None  # real filesystem path when there is one (EVTX reads it natively)
    raw_size: int | None = None  # decompressed size of a zip member: scales its progress to ``size``
    depth: int = 0  # containers around this source
    head: bytes | None = None  # first bytes already read (a tar member can be opened only once)
    problem: str | None = None  # set when the source must not be read at all (counted as failed)
    once: bool = False  # open() works once (stdin, a FIFO, a tar member): heads are pre-read and replayed


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


class _Unclosed(io.RawIOBase):
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


class _Counted(io.RawIOBase):
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


def read_head(src: Source) -> bytes:
    """Up to HEAD_SIZE bytes; a stream that breaks early (truncated gzip) still gives its start.

    When it broke, ``src.problem`` records why, so an unrecognisable start is reported as a read
    error instead of being ignored as an unknown file.
    """
    if src.head is not None:
        return src.head
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
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            if not chunks:
                raise
            src.problem = f"{type(exc).__name__}: {exc}"
    return b"".join(chunks)


def file_source(path: str, display: str | None = None) -> Source:
    """A file on disk; a FIFO or device named on the command line is read once, like stdin."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raw = open(path, "rb")  # noqa: SIM115 - read once, replayed after its head
        head = raw.read(HEAD_SIZE)
        stream = io.BufferedReader(PrefixedReader(head, raw))
        return Source(display or path, 0, lambda: stream, None, head=head, once=True)
    return Source(display or path, st.st_size, lambda: open(path, "rb"), path)  # noqa: SIM115


def walked_source(path: str) -> Source:
    """A file found by a folder walk: FIFOs, devices and sockets are never opened (a FIFO blocks)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
        return Source(path, 0, lambda: io.BytesIO(b""), None, problem=f"{kind}: not a regular file, skipped")
    return Source(path, st.st_size, lambda: open(path, "rb"), path)  # noqa: SIM115


def stdin_source() -> tuple[Source, bytes]:
    """Stdin as a Source (readable once) plus its first bytes, which the Source replays."""
    if sys.stdin is None or not hasattr(sys.stdin, "buffer"):
        raise OSError(9, "standard input is closed")
    raw = sys.stdin.buffer
    head = raw.read(HEAD_SIZE)
    stream = io.BufferedReader(PrefixedReader(head, raw))
    return Source("-", 0, lambda: stream, once=True), head


def walk_files(folder: str, onerror: Callable[[OSError], None] | None = None) -> Iterator[str]:
    """Every file under ``folder``, in a stable (sorted) order; unreadable folders go to ``onerror``."""
    for root, dirs, files in os.walk(folder, onerror=onerror):
        dirs.sort()
        for fname in sorted(files):
            yield os.path.join(root, fname)


#: single-stream compressors: (opener, suffixes the inner name drops, what to append otherwise)
_STREAMS: dict[str, tuple[Callable[..., BinaryIO], tuple[str, ...], str]] = {
    "gzip": (lambda f: gzip.GzipFile(fileobj=f, mode="rb"), (".gz",), "!gunzip"),
    "bzip2": (lambda f: bz2.BZ2File(f, "rb"), (".bz2",), "!bunzip2"),
    "xz": (lambda f: lzma.LZMAFile(f, "rb"), (".xz",), "!unxz"),  # noqa: SIM115
}


def _decompressed(src: Source, kind: str, name: str) -> BinaryIO:
    counted = _Counted(src.open())
    inner = _STREAMS[kind][0](counted)
    return io.BufferedReader(LimitedReader(inner, name, lambda: counted.n), 1 << 16)


def _inner_name(name: str, kind: str) -> str:
    _, suffixes, marker = _STREAMS[kind]
    low = name.lower()
    if low.endswith(".tgz"):
        return name[:-4] + ".tar"
    for s in suffixes:
        if low.endswith(s):
            return name[: -len(s)]
    return name + marker


def expand_container(src: Source, kind: str) -> Iterator[Source]:
    """Members of a zip or tar, or the stream inside a gzip/bzip2/xz, as Sources (the caller recurses).

    Raises ``OSError``/``zipfile.BadZipFile``/``tarfile.TarError``/``EOFError`` for a broken container;
    the caller counts it. A nested zip (no filesystem path) is read into memory (zipfile must seek);
    tar is read as a stream, each member once. Members deeper than ``LIMITS.max_depth`` are not read.
    """
    depth = src.depth + 1
    too_deep = f"nested {depth} containers deep (max_depth {LIMITS.max_depth})" if depth > LIMITS.max_depth else None
    if kind in _STREAMS:
        name = _inner_name(src.name, kind)
        if not src.once or too_deep:
            yield Source(name, src.size, lambda: _decompressed(src, kind, name), depth=depth, problem=too_deep)
            return
        once = Source(name, src.size, lambda: _decompressed(src, kind, name), depth=depth)
        stream = once.open()
        peek = Source(name, 0, lambda: _Unclosed(stream))
        once.head, once.problem = read_head(peek), peek.problem
        replay = io.BufferedReader(PrefixedReader(once.head, stream), 1 << 16)
        once.open, once.once = (lambda: replay), True
        yield once
        return
    if too_deep:
        yield Source(src.name + "!*", 0, lambda: io.BytesIO(b""), depth=depth, problem=too_deep)
        return
    if kind == "tar":
        yield from _tar_members(src, depth)
        return
    if src.path:
        zf = zipfile.ZipFile(src.path)
    else:
        with src.open() as raw:
            zf = zipfile.ZipFile(io.BytesIO(read_bounded(raw, "nested zip")))
    try:
        members = [i for i in zf.infolist() if not i.is_dir()]
        for info in members:
            name = f"{src.name}!{info.filename}"
            yield Source(
                name,
                info.compress_size,
                lambda info=info, name=name: io.BufferedReader(  # type: ignore[misc]
                    LimitedReader(zf.open(info), name, lambda: info.compress_size), 1 << 16
                ),
                raw_size=info.file_size,
                depth=depth,
            )
    finally:
        zf.close()


def _tar_members(src: Source, depth: int) -> Iterator[Source]:
    """Regular members of a tar stream; links, devices and FIFOs inside it are counted, never followed."""
    with src.open() as raw, tarfile.open(fileobj=raw, mode="r|") as tf:
        for member in tf:
            name = f"{src.name}!{member.name}"
            if member.isdir():
                continue
            if not member.isreg():
                yield Source(name, 0, lambda: io.BytesIO(b""), depth=depth,
                             problem="link or special file inside a tar: not followed")  # fmt: skip
                continue
            fobj = tf.extractfile(member)
            if fobj is None:
                continue
            stream = io.BufferedReader(LimitedReader(fobj, name, lambda: 0), 1 << 16)
            head = stream.read(HEAD_SIZE)
            replay = io.BufferedReader(PrefixedReader(head, stream), 1 << 16)
            yield Source(name, member.size, lambda replay=replay: replay, depth=depth, head=head, once=True)  # type: ignore[misc]


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
