"""Run a hunt on several processes: whole files, and slices of large EVTX and NDJSON files, in parallel.

Why processes: parsing (Rust) and normalising + matching (Python) are CPU-bound and hold the GIL
for the Python half. Work units are whole files, or slices of files larger than ``SPLIT_BYTES``:
16 MiB (256 chunks) of an EVTX file (``readers.evtx.read`` with a chunk range: chunk numbers stay
absolute), or about ``SLICE_BYTES`` of whole lines of a plain NDJSON file (any JSON-lines shape
``readers/json_loop.py`` reads; never gzip'd, UTF-16, a JSON array or pretty-printed objects).
A line range starts at the first line that begins at or after its start offset and ends with the
line that crosses its end offset; the parent counts the newlines before each range once (one pass
over the file), so ``line N`` locators in alerts and skips are the file's own line numbers.
Each worker compiles the rules once, returns only hits (rule id + event) and its accounting, and
results are merged in unit order, so output is the same as a one-process run. Memory per worker is
bounded by one slice.

How many workers (:func:`clamp_jobs`): never more than work units, never more than
``JOBS_PER_CORE`` times the usable cores (``os.sched_getaffinity``: a container or ``taskset``
limit counts, not the machine's cores); a larger ``--jobs`` is lowered and the run says so.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

SPLIT_BYTES = 64 * 1024 * 1024
SLICE_CHUNKS = 256
#: Target size of one NDJSON line range. A finished range's hits wait in the parent for their turn, so
#: this sets what an alert-heavy hunt holds: 1M alerts from a 600 MB NDJSON peaked at 263 MB with
#: 16 MiB ranges, 222 MB with 8, 172 MB with 4 (one process: 144 MB); alert-light input runs as fast.
SLICE_BYTES = 4 * 1024 * 1024
#: Workers per usable core at most: a worker waiting on I/O may leave a core idle, thousands never help.
JOBS_PER_CORE = 2
#: units in flight per worker. A finished unit's hits wait in the parent until the units before it are
#: consumed, so this bounds what is held: 1M alerts from a 600 MB NDJSON (16 MiB ranges) peaked at
#: 345 MB with 2, 263 MB with 1, 1.0 GB with every unit submitted at once (bench/bench_memory.py)
IN_FLIGHT_PER_JOB = 1


class Unit(NamedTuple):
    """One piece of work: ``(path, -1, 0)`` a whole file; ``(path, first chunk, chunk count)`` an EVTX
    slice; ``(path, first byte, end byte, first line number, format)`` a range of NDJSON lines."""

    path: str
    first: int
    count: int
    line: int = 0
    fmt: str = ""


def usable_cores() -> int:
    """Cores this process may run on (affinity mask where the OS has one, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def auto_jobs(paths: list[str], threshold: int) -> int:
    """``--jobs 0``: one worker per usable core when the input is over ``threshold`` bytes, except for
    one plain JSON-lines file, which one process reads faster.

    Why the exception (bench_hunt's 1.8 GB NDJSON, 1M lines, 2 cores): since NDJSON is gated a block at
    a time (readers/gate_lines.py) one process takes 2.4-2.7 s, and two workers over 4 MiB ranges
    2.75-3.4 s: the planning pass, per-range start-up and the two processes' competing passes over the
    same bytes now cost more than the split saves. ``--jobs N`` still splits it.
    """
    from iisdetect.errors import InputError
    from iisdetect.readers import plan_files, total_input_bytes

    if total_input_bytes(paths) <= threshold:
        return 1
    try:
        files = plan_files(paths)
    except InputError:  # a path the hunt itself will report
        return usable_cores()
    if len(files) == 1:
        try:
            with open(files[0], "rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError:
            head = b""
        if _json_lines_format(head, files[0]):  # "" for an EVTX file (sniffed by its magic)
            return 1
    return usable_cores()


def clamp_jobs(jobs: int, units: int) -> tuple[int, str | None]:
    """Workers for ``units`` work units: at most the units, at most ``JOBS_PER_CORE`` x usable cores.

    Returns the count and, when ``jobs`` asked for more than the cores allow, a note for the summary
    (fewer workers than requested because there are fewer units is normal and not noted).
    """
    cap = JOBS_PER_CORE * usable_cores()
    note = None
    if jobs > cap:
        note = f"--jobs {jobs} lowered to {cap} ({JOBS_PER_CORE} per usable core)"
    return max(1, min(jobs, cap, units)), note


@dataclass
class UnitResult:
    hits: list[tuple[Event, list[str], list[tuple[str, str]]]] = field(default_factory=list)
    stats: RunStats = field(default_factory=RunStats)
    newest: str = ""
    nbytes: int = 0
    #: (identity, Computer, Channel, EventRecordID, TimeCreated, source, locator) of every event read here
    keys: list[tuple[int, str, str, int, str, str, str]] = field(default_factory=list)
    #: the identity of each hit's event (None: no record id), computed here: see :func:`run_parallel`
    hit_keys: list[int | None] = field(default_factory=list)


def plan_units(files: list[str], split_bytes: int | None = None) -> list[Unit]:
    """Units for ``files`` in order: a file over ``split_bytes`` (default ``SPLIT_BYTES``) in slices when
    it is EVTX or plain NDJSON."""
    from iisdetect.readers.evtx import chunk_count

    split_bytes = SPLIT_BYTES if split_bytes is None else split_bytes
    units: list[Unit] = []
    for path in files:
        try:
            big = os.path.getsize(path) > split_bytes
            with open(path, "rb") as fh:
                head = fh.read(HEAD_BYTES) if big else b""
        except OSError:
            big, head = False, b""
        if big and head.startswith(b"ElfFile\x00"):
            total = chunk_count(path)
            units.extend(Unit(path, first, min(SLICE_CHUNKS, total - first)) for first in range(0, total, SLICE_CHUNKS))
        elif big and (fmt := _json_lines_format(head, path)):
            try:
                units.extend(line_ranges(path, SLICE_BYTES, fmt))
            except (OSError, ValueError):  # unreadable now: the whole-file reader reports it
                units.append(Unit(path, -1, 0))
        else:
            units.append(Unit(path, -1, 0))
    return units


HEAD_BYTES = 64 * 1024


def _json_lines_format(head: bytes, path: str) -> str:
    """The JSON-lines format of a plain file with this head, or "" (not splittable by lines)."""
    from iisdetect.readers.json_loop import is_json_lines
    from iisdetect.readers.sniff import Format, sniff
    from iisdetect.readers.streams import is_utf16

    if is_utf16(head):
        return ""
    fmt, _ = sniff(head, path)
    if fmt not in (Format.EVTX_JSON, Format.FLAT_JSON, Format.ECS, Format.SPLUNK_JSON):
        return ""
    return fmt.value if is_json_lines(head.lstrip(b"\xef\xbb\xbf \t\r\n")) else ""


def line_ranges(path: str, target: int, fmt: str, block: int = 8 << 20) -> list[Unit]:
    """Ranges of whole lines of about ``target`` bytes, each with the number of its first line.

    Why a reused ``block``-sized buffer and not ``mmap``: every page of a mapped file counts in the
    process's RSS once touched, so planning a 7 GB NDJSON file showed 6.6 GB peak RSS (bench_lake.py);
    ``readinto`` one buffer keeps the planner at a few MB whatever the file size.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return [Unit(path, -1, 0)]
        units: list[Unit] = []
        buf = bytearray(block)
        start, line, newlines, pos = 0, 1, 0, 0
        want = target - 1  # the unit ends after the first newline at or after this byte
        while pos < size:
            n = fh.readinto(buf)
            if not n:
                break
            seg = 0  # the current unit's part of this block starts here
            while (s := max(want - pos, seg)) < n and (j := buf.find(b"\n", s, n)) >= 0:
                if pos + j + 1 >= size:  # the file's last byte: no empty range after it
                    break
                newlines += buf.count(b"\n", seg, j + 1)
                units.append(Unit(path, start, pos + j + 1, line, fmt))
                start, line, newlines, seg = pos + j + 1, line + newlines, 0, j + 1
                want = start + target - 1
            newlines += buf.count(b"\n", seg, n)
            pos += n
        units.append(Unit(path, start, size, line, fmt))
    return units


class _LineRange:
    """Bytes ``[start, end)`` of an open file, read the way ``read_json`` reads (``read1``)."""

    def __init__(self, fh, start: int, end: int, first_line: int) -> None:  # noqa: ANN001
        fh.seek(start)
        self._fh = fh
        self._left = end - start
        self.iisdetect_first_line = first_line

    def read1(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._fh.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        return data

    read = read1


_WORKER: dict[str, object] = {}


def _init_worker(matcher_factory: Callable[[], object], limits: dict[str, int] | None = None) -> None:
    """Compile the rules once per worker, with the parent's reader limits (``--limit``).

    A forked worker inherits the parent's ``LIMITS``, a spawned or forkserver one (macOS, Windows,
    Python 3.14's Linux default) starts from the defaults: the values are set on its one ``LIMITS``.
    """
    if limits:
        from iisdetect.readers.limits import LIMITS

        for name, value in limits.items():
            setattr(LIMITS, name, value)
    _WORKER["matcher"] = matcher_factory()


def unit_bytes(unit: Unit) -> int:
    """Input bytes a unit covers (progress): the file, the chunks (and header at chunk 0), the line range."""
    from iisdetect.readers import evtx as evtx_reader

    if unit.line:
        return unit.count - unit.first
    size = os.path.getsize(unit.path)
    if unit.first < 0:
        return size
    start = evtx_reader.HEADER_SIZE + unit.first * evtx_reader.CHUNK_SIZE
    nbytes = max(0, min(size, start + unit.count * evtx_reader.CHUNK_SIZE) - start)
    return nbytes + (evtx_reader.HEADER_SIZE if unit.first == 0 else 0)


def unit_events(unit: Unit, stats: RunStats, gate: object = None) -> Iterator[Event]:
    """The events of one unit, with the accounting a one-process read gives them: the EVTX slice at
    chunk 0 and the line range at byte 0 count the file; ``gate`` skips records before decoding.

    Used by hunt workers and by the parallel ``aql`` loader (:mod:`iisdetect.aql.parallel_load`).
    """
    from iisdetect.readers import evtx as evtx_reader
    from iisdetect.readers import iter_file_events

    if unit.line:
        yield from _line_events(unit, stats, gate)
    elif unit.first < 0:
        yield from iter_file_events(unit.path, stats, gate=gate)
    else:
        if unit.first == 0:
            stats.files += 1
            stats.formats["evtx"] += 1
        yield from evtx_reader.read(
            unit.path, unit.path, stats, first_chunk=unit.first, chunk_limit=unit.count, gate=gate
        )


def _line_events(unit: Unit, stats: RunStats, gate: object) -> Iterator[Event]:
    """One range of an NDJSON file; an I/O failure mid-file keeps what was read, as the one-process reader."""
    from functools import partial

    from iisdetect.readers import GATED, READERS
    from iisdetect.readers.sniff import Format

    if unit.first == 0:
        stats.files += 1
        stats.formats[unit.fmt] += 1
    try:
        with open(unit.path, "rb") as fh:
            fmt = Format(unit.fmt)
            reader = READERS[fmt]
            if gate is not None and fmt in GATED:  # the same skip-before-decoding as one process
                reader = partial(reader, gate=gate)
            yield from reader(_LineRange(fh, unit.first, unit.count, unit.line), unit.path, stats)
    except Exception as exc:
        stats.file_failed(unit.path, "read error", f"{type(exc).__name__}: {exc}")


def _run_unit(unit: Unit) -> UnitResult:
    res = UnitResult()
    matcher = _WORKER["matcher"]
    res.nbytes = unit_bytes(unit)
    if matcher.dedupe:  # type: ignore[attr-defined]
        matcher.seen = set()  # type: ignore[attr-defined]  # duplicates across units are found by the parent
        matcher.record_keys = res.keys  # type: ignore[attr-defined]
    events = unit_events(unit, res.stats, getattr(matcher, "gate", None))
    res.newest = matcher.consume(events, res.hits, res.stats)  # type: ignore[attr-defined]
    if matcher.dedupe:  # type: ignore[attr-defined]
        from iisdetect.hunting.duplicates import event_identity

        res.hit_keys = [None if h[0].record_id is None else event_identity(h[0]) for h in res.hits]
    return res


def run_parallel(units: list[Unit], jobs: int, matcher_factory: Callable[[], object]) -> Iterator[UnitResult]:
    """Results in unit order; ``matcher_factory`` is called once in each worker.

    Event identities are Python ``hash`` values (keyed, so forged input cannot aim collisions), which
    agree only between processes with one hash seed: forked workers share the parent's, and a fresh
    random ``PYTHONHASHSEED`` for the pool's lifetime gives spawned (macOS, Windows) or forkserver
    workers a common one. Identities are therefore computed and compared in workers' terms only.
    """
    saved = os.environ.get("PYTHONHASHSEED")
    if saved is None:
        os.environ["PYTHONHASHSEED"] = str(int.from_bytes(os.urandom(4), "big"))
    from concurrent.futures import ProcessPoolExecutor  # here: multiprocessing costs a one-file hunt 16 ms

    from iisdetect.readers.limits import LIMITS

    limits = dict(vars(LIMITS))  # a snapshot for the workers; the parent's LIMITS stays the only one it reads
    try:
        with ProcessPoolExecutor(
            max_workers=jobs, initializer=_init_worker, initargs=(matcher_factory, limits)
        ) as pool:
            # a bounded window, not ``pool.map``: map submits every unit at once, and finished units
            # wait in the parent until their turn, so when workers outrun the parent every result
            # is held at once (IN_FLIGHT_PER_JOB)
            ahead = deque(pool.submit(_run_unit, u) for u in units[: IN_FLIGHT_PER_JOB * jobs])
            rest = iter(units[IN_FLIGHT_PER_JOB * jobs :])
            while ahead:
                done = ahead.popleft().result()
                nxt = next(rest, None)
                if nxt is not None:
                    ahead.append(pool.submit(_run_unit, nxt))
                yield done
    finally:
        if saved is None:
            os.environ.pop("PYTHONHASHSEED", None)
