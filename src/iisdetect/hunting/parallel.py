"""Run a hunt on several processes: whole files, and slices of large EVTX files, in parallel.

Why processes: parsing (Rust) and normalising + matching (Python) are CPU-bound and hold the GIL
for the Python half. Work units are whole files, or 16 MiB slices (256 chunks) of EVTX files larger
than ``SPLIT_BYTES`` (``readers.evtx.read`` with a chunk range: chunk numbers stay absolute).
Each worker compiles the rules once, returns only hits (rule id + event) and its accounting, and
results are merged in unit order, so output is the same as a one-process run. Memory per worker is
bounded by one slice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

SPLIT_BYTES = 64 * 1024 * 1024
SLICE_CHUNKS = 256

#: (path, first chunk, chunk count) for an EVTX slice; (path, -1, 0) for a whole file.
Unit = tuple[str, int, int]


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


def plan_units(files: list[str]) -> list[Unit]:
    from iisdetect.readers.evtx import chunk_count

    units: list[Unit] = []
    for path in files:
        try:
            big = os.path.getsize(path) > SPLIT_BYTES
            with open(path, "rb") as fh:
                is_evtx = fh.read(8) == b"ElfFile\x00"
        except OSError:
            big = is_evtx = False
        if big and is_evtx:
            total = chunk_count(path)
            units.extend((path, first, min(SLICE_CHUNKS, total - first)) for first in range(0, total, SLICE_CHUNKS))
        else:
            units.append((path, -1, 0))
    return units


_WORKER: dict[str, object] = {}


def _init_worker(matcher_factory: Callable[[], object]) -> None:
    _WORKER["matcher"] = matcher_factory()


def _run_unit(unit: Unit) -> UnitResult:
    from iisdetect.readers import evtx as evtx_reader
    from iisdetect.readers import iter_file_events

    path, first, count = unit
    res = UnitResult()
    matcher = _WORKER["matcher"]
    if first < 0:
        events: Iterator[Event] = iter_file_events(path, res.stats, gate=matcher.gate)  # type: ignore[attr-defined]
        res.nbytes = os.path.getsize(path)
    else:
        size = os.path.getsize(path)
        start = evtx_reader.HEADER_SIZE + first * evtx_reader.CHUNK_SIZE
        res.nbytes = max(0, min(size, start + count * evtx_reader.CHUNK_SIZE) - start)
        if first == 0:
            res.nbytes += evtx_reader.HEADER_SIZE
            res.stats.files += 1
            res.stats.formats["evtx"] += 1
        gate = matcher.gate  # type: ignore[attr-defined]
        events = evtx_reader.read(path, path, res.stats, first_chunk=first, chunk_limit=count, gate=gate)
    if matcher.dedupe:  # type: ignore[attr-defined]
        matcher.seen = set()  # type: ignore[attr-defined]  # duplicates across units are found by the parent
        matcher.record_keys = res.keys  # type: ignore[attr-defined]
    res.newest = matcher.consume(events, res.hits, res.stats)  # type: ignore[attr-defined]
    if matcher.dedupe:  # type: ignore[attr-defined]
        from iisdetect.hunting.run import event_identity

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
    try:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(matcher_factory,)) as pool:
            yield from pool.map(_run_unit, units, chunksize=1)
    finally:
        if saved is None:
            os.environ.pop("PYTHONHASHSEED", None)
