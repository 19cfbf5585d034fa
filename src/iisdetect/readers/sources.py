"""Turn command-line paths into readable inputs: files, folder walks, containers, stdin.

Why a separate layer: readers only see ``(name, binary file object)`` so every format works the same
inside a container or on stdin. Containers are recognised by content and opened in place (nothing is
extracted to disk): ``.zip`` and ``.tar`` members are named ``archive.zip!member``, the stream inside
``.gz``/``.bz2``/``.xz`` is ``x.json.gz`` -> ``x.json`` (so ``.tar.gz``/``.tgz`` is a tar inside a
gzip), so skips and alerts point at the exact file.

Every decompressed stream is bounded (:data:`~.limits.LIMITS`, docs/limits.md): a member larger than
``max_member`` bytes, or expanding more than ``max_ratio`` times its compressed size once past
``ratio_floor`` bytes, or nested deeper than ``max_depth`` containers, stops with
:class:`~.limits.LimitExceeded`; the caller counts it as a failed file (``limit exceeded``) and goes on.

The limits live in :mod:`.limits` and the stream wrappers in :mod:`.streams`; their names are
re-exported here (``from iisdetect.readers.sources import LIMITS`` still works, and is the same object).
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
from dataclasses import dataclass
from typing import BinaryIO

from . import limits as _limits
from .limits import LIMITS, LimitExceeded, Limits, parse_size, read_bounded, set_limit
from .sniff import HEAD_SIZE, Format, container_kind, sniff
from .streams import (
    Budget,
    Counted,
    CountingReader,
    LimitedReader,
    PrefixedReader,
    ScaledProgress,
    Unclosed,
    Utf16ToUtf8,
    is_utf16,
)

__all__ = [
    # defined here
    "DATA_EXTENSIONS", "Source", "classify", "expand_container", "file_source", "is_data_name", "read_head",
    "stdin_source", "walk_files", "walked_source",
    # re-exported from .limits and .streams for callers that import them from here
    "LIMITS", "LimitExceeded", "Limits", "parse_size", "read_bounded", "set_limit",
    "Budget", "CountingReader", "LimitedReader", "PrefixedReader", "ScaledProgress", "Utf16ToUtf8", "is_utf16",
]  # fmt: skip

#: Extensions that promise event data: such a file of unknown content inside a folder is a failure
#: (``stats.file_failed``); any other unknown file (LICENSE, README.md, *.yaml) is quietly ignored.
DATA_EXTENSIONS = (".evtx", ".json", ".jsonl", ".ndjson", ".xml", ".log", ".gz", ".zip", ".tar", ".tgz",
                   ".bz2", ".xz")  # fmt: skip


def __getattr__(name: str) -> int:
    """``MAX_BUFFER`` (kept for callers that still name it), read live from the one ``LIMITS``."""
    if name == "MAX_BUFFER":
        return _limits.MAX_BUFFER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    counted = Counted(src.open())
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
        peek = Source(name, 0, lambda: Unclosed(stream))
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
