"""Input readers: paths in, canonical :class:`~iisdetect.model.event.Event` objects out.

Formats (``docs/input-formats.md``) are recognised by content (:func:`sniff`), never by extension;
each has one module and one entry in :data:`READERS`. Containers are opened in place: ``.zip``
members (``a.zip!inner.json``, recursively) and ``.gz`` streams (``x.json.gz`` -> ``x.json``).
UTF-16 text (with BOM) is transcoded on the fly.

Accounting scheme (``RunStats``):

* ``files`` / ``formats[fmt]``: one per file (or container member) actually read as a known format
  (``formats`` sums to ``files``). Containers themselves are not counted, their members are.
* ``files_ignored``: files of unknown content inside a folder or container whose name does not
  promise event data (LICENSE, README.md, *.yaml, manifest.tsv): skipped quietly, but counted.
* ``containers``: archives and compressed streams given or found in a folder (not those nested in
  one); ``files_in_containers``: how many of ``files + files_ignored`` came out of them.
* ``stats.file_failed(name, reason)``: inside a walk, a file that cannot be opened (``unreadable``),
  a broken container (``bad container``), a data-named file (.evtx .json .jsonl .ndjson .xml .log
  .gz .zip) of unknown content (``unknown format``), or an I/O/decompression error mid-file
  (``read error``; the events already read are kept). The walk always goes on.
* ``records_read`` / ``stats.skip(...)``: per record; every unusable record/line/element/chunk is
  one skip with a reason (``evtx chunk error``, ``evtx record error``, ``bad json``, ``bad record``,
  ``not an event``, ``bad xml``, ``unsafe xml``) and a locator.
* Command-line arguments are checked before anything is yielded: a missing path, an unreadable
  file, or a file (or stdin) of unknown format raises :class:`~iisdetect.errors.InputError`.

Normalisation decisions shared by every shape (so the same event is equal from any of them):

* unnamed ``<Data>`` are named ``param1``, ``param2``... (Winlogbeat's names); an empty ``<Binary>``
  is dropped, a non-empty one kept as ``Binary``; ``<UserData>`` is flattened to its leaf elements;
  empty or null values are ``""``; numbers and booleans are rendered as Windows XML does.
* locators: ``record N`` (EVTX EventRecordID), ``after record N`` (an EVTX chunk/record error),
  ``line N`` (JSON lines, or the first line of a pretty-printed object), ``item N`` (JSON array),
  ``element N`` (XML, counting every ``<Event>`` including bad ones), ``file`` (whole-file problems).
* stdin (``-``) takes any format; a container or EVTX on stdin is buffered in memory (bounded).
"""

from __future__ import annotations

import contextlib
import io
import lzma
import os
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from iisdetect.errors import InputError
from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

from . import ecs, evtx, evtx_json, evtxecmd, flat_json, splunk, xml
from .limits import LimitExceeded, read_bounded
from .sniff import Format, sniff
from .sources import (
    Source,
    classify,
    expand_container,
    file_source,
    is_data_name,
    stdin_source,
    walk_files,
    walked_source,
)
from .streams import Budget, CountingReader, ScaledProgress, Utf16ToUtf8, is_utf16

__all__ = ["Format", "READERS", "iter_events", "iter_file_events", "plan_files", "sniff", "total_input_bytes"]

Reader = Callable[[Any, str, RunStats], Iterator[Event]]

#: One reader per format: ``read(stream_or_path, source_name, stats)``.
READERS: dict[Format, Reader] = {
    Format.EVTX: evtx.read,
    Format.EVTX_JSON: evtx_json.read,
    Format.FLAT_JSON: flat_json.read,
    Format.ECS: ecs.read,
    Format.SPLUNK_JSON: splunk.read,
    Format.XML: xml.read,
    Format.EVTXECMD_CSV: evtxecmd.read,
}

#: Formats whose reader takes a ``gate`` (raw EventID/channel routing and the literal prefilter);
#: Splunk rows (XML inside JSON), XML and CSV are always decoded.
GATED = frozenset({Format.EVTX, Format.EVTX_JSON, Format.FLAT_JSON, Format.ECS})

_CONTAINER_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, tarfile.TarError, zipfile.BadZipFile,
                     zipfile.LargeZipFile, RuntimeError)  # fmt: skip
Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


def _plan(paths: Sequence[str]) -> list[tuple[str, Any]]:
    """Validate every command-line argument up front (InputError before any event)."""
    plan: list[tuple[str, Any]] = []
    for p in paths:
        if p == "-":
            try:
                src, head = stdin_source()
            except OSError as exc:
                raise InputError(f"stdin: cannot read ({exc.strerror or exc})") from None
            kind, fmt, reason, _ = classify(src, head)
            if kind is None and fmt is Format.UNKNOWN:
                raise InputError(f"stdin: unknown input format ({reason})")
            if kind == "zip":  # zipfile seeks: buffer stdin (bounded)
                with src.open() as stream:
                    try:
                        data = read_bounded(stream, "stdin")
                    except OSError as exc:
                        raise InputError(f"stdin: {exc}") from None
                src = Source("-", 0, lambda data=data: io.BytesIO(data))
            plan.append(("source", (src, head)))
        elif os.path.isdir(p):
            plan.append(("dir", p))
        elif os.path.exists(p):
            try:
                src = file_source(p)
                kind, fmt, reason, head = classify(src)
            except OSError as exc:
                raise InputError(f"{p}: cannot open ({exc.strerror or exc})") from None
            if kind is None and fmt is Format.UNKNOWN:
                raise InputError(f"{p}: unknown input format ({reason})")
            plan.append(("source", (src, head)))
        else:
            raise InputError(f"{p}: no such file or directory")
    return plan


def iter_events(
    paths: Sequence[str], stats: RunStats, *, on_progress: Callable[[int], None] | None = None, gate: Any = None
) -> Iterator[Event]:
    """Walk paths (files, folders recursively, '-' = stdin), sniff each, yield canonical Events.

    ``stats`` is updated as described in the module docstring. ``on_progress(nbytes)`` is called as
    input bytes are consumed: per 64 KiB read for files on disk (EVTX included), scaled from the
    decompressed bytes for zip members; each file on disk reports exactly its size in total (ignored
    and failed files too), so the sum reaches :func:`total_input_bytes`. ``gate`` (hunts only: a
    :class:`~iisdetect.engine.prefilter.RecordGate`) lets the EVTX and JSON-lines readers skip
    records no rule can match before decoding them (counted: ``stats.routed_away``/``prefiltered``).
    """
    plan = _plan(paths)

    def walk_error(exc: OSError) -> None:
        stats.file_failed(str(exc.filename), "unreadable", str(exc))

    for kind, item in plan:
        if kind == "dir":
            for path in walk_files(item, walk_error):
                yield from _read_source(file_source_safe(path, stats), stats, on_progress, gate=gate)
        else:
            src, head = item
            yield from _read_source(src, stats, on_progress, head, gate)


def plan_files(paths: Sequence[str]) -> list[str]:
    """Validate command-line paths like :func:`iter_events`, then list the files to read (folders walked).

    Used to split a run across processes; stdin cannot be split, so ``-`` is refused here.
    """
    if "-" in paths:
        raise InputError("stdin ('-') cannot be read by several workers; use one job")
    files: list[str] = []
    for kind, item in _plan(paths):
        if kind == "dir":
            files.extend(walk_files(item))
        else:
            files.append(item[0].path or item[0].name)
    return files


def iter_file_events(
    path: str, stats: RunStats, on_progress: Callable[[int], None] | None = None, gate: Any = None
) -> Iterator[Event]:
    """One file with folder-walk semantics (unknown content is ignored or counted, never raised)."""
    yield from _read_source(file_source_safe(path, stats), stats, on_progress, gate=gate)


def file_source_safe(path: str, stats: RunStats) -> Source | None:
    """A walked file (FIFOs, devices and sockets marked, never opened); unreadable ones counted."""
    try:
        return walked_source(path)
    except OSError as exc:
        stats.file_failed(path, "unreadable", str(exc))
        return None


def _read_source(
    src: Source | None, stats: RunStats, on_progress: Progress | None, head: bytes | None = None, gate: Any = None
) -> Iterator[Event]:
    """One source (a file on disk gets a progress budget of exactly its size)."""
    if src is None:
        return
    if src.problem is not None and src.head is None:  # a FIFO in a folder, a container nested too deep
        reason = "limit exceeded" if "max_depth" in src.problem else "not read"
        stats.file_failed(src.name, reason, src.problem)
        if on_progress is not None and src.size:
            on_progress(src.size)
        return
    if on_progress is None or not src.path:
        yield from _read_one(src, stats, on_progress, head, gate)
        return
    budget = Budget(src.size, on_progress)
    try:
        yield from _read_one(src, stats, budget, head, gate)
    finally:
        budget.finish()


def _read_one(
    src: Source, stats: RunStats, on_progress: Progress | None, head: bytes | None, gate: Any = None
) -> Iterator[Event]:
    progress = on_progress or _noop
    try:
        kind, fmt, reason, head = classify(src, head)
    except _CONTAINER_ERRORS as exc:
        stats.file_failed(src.name, "unreadable", f"{type(exc).__name__}: {exc}")
        return
    if kind is not None:
        if src.depth == 0:  # an archive or stream given or found in a folder, not one inside another
            stats.containers += 1
        try:
            for member in expand_container(src, kind):
                yield from _read_source(member, stats, on_progress, member.head, gate)
        except LimitExceeded as exc:
            stats.file_failed(src.name, "limit exceeded", str(exc))
        except _CONTAINER_ERRORS as exc:
            stats.file_failed(src.name, "bad container", f"{type(exc).__name__}: {exc}")
        return
    if fmt is Format.UNKNOWN:
        if src.problem:  # the stream broke inside its first bytes (corrupt gzip): not an ignorable file
            stats.file_failed(src.name, "read error", src.problem)
        elif is_data_name(src.name):
            stats.file_failed(src.name, "unknown format", reason)
        else:
            stats.files_ignored += 1
            if src.depth:
                stats.files_in_containers += 1
        progress(src.size)
        return
    stats.files += 1
    stats.formats[fmt.value] += 1
    if src.depth:
        stats.files_in_containers += 1
    reader = READERS[fmt]
    if gate is not None and fmt in GATED:
        reader = partial(reader, gate=gate)
    try:
        if fmt is Format.EVTX and src.path:
            if on_progress is None:  # pyevtx reads the path natively: fastest
                yield from reader(src.path, src.name, stats)
                return
            with open(src.path, "rb") as raw:  # ~2% slower, but the bar moves per 64 KiB chunk
                yield from reader(CountingReader(raw, progress), src.name, stats)
            return
        scaled = None
        with src.open() as raw:
            stream: Any = raw
            if on_progress is not None and src.path:
                stream = io.BufferedReader(CountingReader(raw, progress), 1 << 16)
            elif on_progress is not None and src.raw_size:
                scaled = ScaledProgress(progress, src.size, src.raw_size)
                stream = io.BufferedReader(CountingReader(raw, scaled), 1 << 16)
            utf16 = Utf16ToUtf8(stream) if is_utf16(head) else None
            if utf16 is not None:
                stream = io.BufferedReader(utf16, 1 << 16)
            yield from reader(stream, src.name, stats)
            if utf16 is not None and utf16.replaced:
                stats.warn(f"{src.name}: {utf16.replaced} undecodable UTF-16 code unit(s) read as U+FFFD")
        if not src.path:
            if scaled is None:
                progress(src.size)
            else:
                scaled.finish()
    except LimitExceeded as exc:  # a bomb or an oversized member: stop it, keep what was read, count it
        stats.file_failed(src.name, "limit exceeded", str(exc))
    except Exception as exc:  # I/O or decompression failure mid-file: keep what was read
        stats.file_failed(src.name, "read error", f"{type(exc).__name__}: {exc}")


def total_input_bytes(paths: Sequence[str]) -> int:
    """Bytes on disk under ``paths`` (the progress bar total; stdin counts 0)."""
    total = 0
    for p in paths:
        if p == "-":
            continue
        if os.path.isdir(p):
            for f in walk_files(p):
                with contextlib.suppress(OSError):
                    total += os.path.getsize(f)
        else:
            with contextlib.suppress(OSError):
                total += os.path.getsize(p)
    return total
