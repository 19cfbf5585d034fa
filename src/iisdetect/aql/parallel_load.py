"""Load the AQL table on several processes: each worker reads a run of work units into Parquet parts.

Why: ``aql`` over files is bound by reading and by building columns, both Python work that holds the
GIL (Sysmon x200, 113k records, one process: reading 1.64 s, reading + loading 3.47 s, the seed query
0.11 s). The work units are the hunt's (:func:`iisdetect.hunting.parallel.plan_units`: whole files,
256-chunk EVTX slices, NDJSON line ranges), grouped into contiguous runs (:func:`group_units`) so a
worker writes full 65,536-event parts rather than one small part per file, which later scans pay for.

The result is the table a one-process load builds: the same rows in the same order, the same columns
in the same order and spelling, the same log source ids and QIDs (numbered in first-appearance order
over the whole input). A worker numbers what it sees in its own first-appearance order; the parent
merges the runs in order, renumbers, and rewrites only the parts whose numbers or column spellings
differ from the global ones (for repeated input, usually none).

No DuckDB database is open in the parent while the workers start (:meth:`iisdetect.aql.Emulator.
load_files` closes its connection first): workers are forked where the platform forks, and a fork of
a process running DuckDB's threads inherits locks that no thread of the child will ever release.
"""

from __future__ import annotations

import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iisdetect.aql.table import Places, Written, write_parts
from iisdetect.hunting.parallel import Unit, clamp_jobs, plan_units, unit_bytes, unit_events, usable_cores
from iisdetect.mapping.qradar import QRadarMapping
from iisdetect.model.stats import RunStats

#: ``--jobs 0`` loads on every usable core from this much input. Measured on 2 cores (Sysmon EVTX, best
#: of 3): 18 MiB loads in 0.63 s alone and 0.80 s on two workers, 37 MiB in 1.10 s alone and 0.91 s.
AUTO_BYTES = 32 * 1024 * 1024
#: Files over this size are read in slices (hunt: 64 MiB): a load is slower per byte than a hunt, so a
#: 20-60 MB file alone on one worker would leave the others idle at the end.
SPLIT_BYTES = 16 * 1024 * 1024
#: Runs of units per worker: enough to even out unequal runs, few enough to keep the parts full.
GROUPS_PER_JOB = 2
#: A run holds at least this many input bytes (about 10-20k Sysmon records: a few parts at most).
MIN_GROUP_BYTES = 16 * 1024 * 1024


def auto_jobs(paths: list[str]) -> int:
    """``--jobs 0``: every usable core for inputs over :data:`AUTO_BYTES`, else one process."""
    from iisdetect.readers import total_input_bytes

    if "-" in paths or total_input_bytes(paths) <= AUTO_BYTES:
        return 1
    return usable_cores()


def plan(paths: list[str], jobs: int) -> tuple[list[list[Unit]], int, str | None]:
    """Runs of units for the workers, how many workers, and a note if ``jobs`` was lowered.

    No runs (``[]``) means one process: one job, stdin, a path the readers must report, or a single run.
    """
    from iisdetect.errors import InputError
    from iisdetect.readers import plan_files

    if jobs <= 1 or "-" in paths:
        return [], 1, None
    try:
        units = plan_units(plan_files(paths), SPLIT_BYTES)
    except InputError:  # the one-process load reports it, in its words
        return [], 1, None
    groups = group_units(units, jobs)
    if len(groups) <= 1:
        return [], 1, None
    workers, note = clamp_jobs(jobs, len(groups))
    return groups, workers, note


def group_units(units: list[Unit], jobs: int) -> list[list[Unit]]:
    """Contiguous runs of ``units`` of about ``total / (jobs * GROUPS_PER_JOB)`` bytes each (at least
    :data:`MIN_GROUP_BYTES`), in input order."""

    def size(u: Unit) -> int:
        try:
            return _unpacked_size(u.path) if u.first < 0 else unit_bytes(u)
        except (OSError, zipfile.BadZipFile):  # gone or damaged since planning: its reader reports it
            return 0

    sizes = [size(u) for u in units]
    target = max(MIN_GROUP_BYTES, sum(sizes) // (max(1, jobs) * GROUPS_PER_JOB) + 1)
    groups: list[list[Unit]] = []
    run: list[Unit] = []
    held = 0
    for unit, n in zip(units, sizes, strict=True):
        run.append(unit)
        held += n
        if held >= target:
            groups.append(run)
            run, held = [], 0
    if run:
        groups.append(run)
    return groups


def _unpacked_size(path: str) -> int:
    """A whole file's size as read: a zip archive's members unpacked (OTRF's datasets: 3 MB zips of
    ~60 MB JSON), else the file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    return os.path.getsize(path)


def write_parallel(
    groups: list[list[Unit]], jobs: int, mapping: QRadarMapping, folder: str, stats: RunStats
) -> Written:
    """Read and write every run on ``jobs`` processes; the merged parts, numbers and columns.

    ``stats`` receives each run's reader accounting in input order (the one-process load's totals).
    A run is merged as soon as it and the runs before it are done, and its parts that need new
    numbers are rewritten by the same workers while later runs are still loading.
    """
    from iisdetect.readers.limits import LIMITS

    limits = dict(vars(LIMITS))  # ``--limit`` values for spawned workers (see hunting.parallel._init_worker)
    merged = Merge(mapping)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(mapping, folder, limits)) as pool:
        rewrites = []
        for written, run_stats in pool.map(_load_run, enumerate(groups)):
            stats.merge(run_stats)
            rewrites.extend(pool.submit(_rewrite, *job) for job in merged.add(written))
        for done in rewrites:
            done.result()
    return merged.out


_STATE: dict[str, Any] = {}


def _init(mapping: QRadarMapping, folder: str, limits: dict[str, int]) -> None:
    from iisdetect.readers.limits import LIMITS

    for name, value in limits.items():
        setattr(LIMITS, name, value)
    _STATE.update(mapping=mapping, folder=folder)


def _load_run(job: tuple[int, list[Unit]]) -> tuple[Written, RunStats]:
    """One run in a worker: its parts are named by run number, so runs never collide."""
    number, units = job
    stats = RunStats()
    con = duckdb.connect()  # in memory; it only reads each batch's times (part_writer.PartWriter)
    con.execute("SET threads = 1")
    try:
        events = chain.from_iterable(unit_events(u, stats) for u in units)
        written = write_parts(con, events, _STATE["mapping"], _STATE["folder"], prefix=f"part-{number:05d}-")
    finally:
        con.close()
    return written, stats


class Merge:
    """Runs, in input order, into one load: global numbers in first-appearance order, each column
    under its first spelling (:attr:`out`)."""

    def __init__(self, mapping: QRadarMapping) -> None:
        self.out = Written()
        self._places = Places(mapping, self.out)
        self._spelling: dict[str, str] = {}  # lower-cased column -> its first spelling

    def add(self, run: Written) -> list[tuple[str, dict[int, int], dict[int, int], dict[str, str]]]:
        """Merge the next run; returns the :func:`_rewrite` jobs for its parts (none if its numbers
        and spellings are the global ones already)."""
        out, places = self.out, self._places
        sources = {local: places.source(key) for key, local in run.sources.items()}
        qids = {local: places.qid(key, name)[0] for key, (local, name, _) in run.qids.items()}
        renames: dict[str, str] = {}
        for col in run.columns:
            first = self._spelling.get(col.lower())
            if first is None:
                self._spelling[col.lower()] = col
                out.columns.append(col)
            elif first != col:
                renames[col] = first
        out.parts.extend(run.parts)
        out.events += run.events
        if not renames and all(k == v for k, v in chain(sources.items(), qids.items())):
            return []
        return [(path, sources, qids, renames) for path in run.parts]


def _rewrite(path: str, sources: dict[int, int], qids: dict[int, int], renames: dict[str, str]) -> None:
    """One part with its run's numbers replaced by the global ones and its columns respelt."""
    part = pq.read_table(path)
    for name, numbers in (("logsourceid", sources), ("qid", qids)):
        if all(k == v for k, v in numbers.items()):
            continue
        col = part.column(name)
        old = pa.array(list(numbers), col.type)
        new = pa.array(list(numbers.values()), col.type)
        part = part.set_column(part.schema.get_field_index(name), name, new.take(pc.index_in(col, value_set=old)))
    if renames:
        part = part.rename_columns([renames.get(c, c) for c in part.column_names])
    pq.write_table(part, path)
