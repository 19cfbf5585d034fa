"""Offline QRadar AQL: load Windows events into a QRadar-shaped DuckDB table and run AQL on it.

    emu = Emulator()                       # or Emulator(db_path="events.duckdb")
    emu.load(events)                       # iterable of iisdetect.model.event.Event
    result = emu.query("SELECT ... FROM events WHERE ... LAST 24 HOURS")

Modules: ``dialect`` (parsing, time clause), ``translate`` (AQL -> DuckDB), ``functions``,
``table`` (loading, lookup tables, the ``events`` view), ``guard`` (what a query may do),
``lint`` (problems in a query), ``mapping`` (the QRadar names, from mapping/qradar.yaml).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from iisdetect.aql import guard, lookups, table
from iisdetect.aql.errors import AqlError, QueryRefused
from iisdetect.aql.functions import MACROS
from iisdetect.aql.lookups import LocalData
from iisdetect.aql.translate import Options, compile_query
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import QRadarMapping, load_mapping
from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats
from iisdetect.model.times import ms_to_iso

__all__ = ["AqlError", "Emulator", "LocalData", "Options", "QueryRefused", "Result", "ms_to_iso"]


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    now_ms: int
    now_source: str  # "newest event" | "--now" | "clock" (empty table)
    sql: str
    time_range: tuple[int | None, int | None]


class Emulator:
    """Owns the DuckDB connection. Loading happens before :meth:`prepare` locks it."""

    def __init__(
        self,
        db_path: str | None = None,
        mapping: QRadarMapping | None = None,
        options: Options | None = None,
        sysmon_logsourcetypeid: int | None = None,
        reference_sets: str | None = None,
        now_ms: int | None = None,
        local: LocalData | None = None,
    ) -> None:
        self.db_path = db_path
        self.mapping = mapping or load_mapping()
        self.options = options or Options()
        self.sysmon_logsourcetypeid = sysmon_logsourcetypeid
        self.local = local or LocalData()
        if reference_sets:
            self.local = LocalData(reference_sets, self.local.reference_data, self.local.network_hierarchy,
                                   self.local.log_source_groups)  # fmt: skip
        self.fixed_now_ms = now_ms
        # Without --db the table lives in a temporary database file, not in memory: DuckDB compresses
        # stored tables and its buffer manager keeps RSS bounded (in-memory tables are neither).
        self._tmpdir = None if db_path else tempfile.mkdtemp(prefix="iisdetect-aql-")
        self._path = db_path or os.path.join(self._tmpdir, "events.duckdb")  # type: ignore[arg-type]
        self.con = self._connect()
        if self._tmpdir:  # removed even if close() is never reached (an exception, Ctrl-C)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        self.columns: list[str] = []
        #: what the load changed from the request (``--jobs`` lowered to the cores), for the user
        self.notes: list[str] = []
        self._locked = False
        #: folders of Parquet parts the ``events`` view reads (no ``--db``): readable after the lock
        self._parts: list[str] = []

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(self._path)
        except duckdb.Error as exc:  # not a DuckDB file, a missing folder: one line, no traceback
            raise UsageError(f"--db {self.db_path}: cannot open: {str(exc).splitlines()[0]}") from None
        guard.limit_resources(con)
        return con

    def close(self) -> None:
        self.con.close()
        if self._tmpdir:
            self._cleanup()
            self._tmpdir = None

    def load(self, events: Iterable[Event], tmpdir: str | None = None) -> int:
        """Load canonical events (any iterable); with ``--db``, parts go to a temporary folder in ``tmpdir``."""
        if self._locked:
            raise AqlError("the table is locked for querying; load before the first query")
        return self._load_parts(lambda folder: table.write_parts(self.con, events, self.mapping, folder), tmpdir)

    def load_files(self, paths: list[str], stats: RunStats, jobs: int = 1) -> int:
        """Load log files and folders with the hunt's readers (their accounting goes to ``stats``), or
        a lake written by ``iisdetect convert`` (:mod:`iisdetect.aql.load_lake`).

        ``jobs`` > 1 reads log files on that many processes where the input splits
        (:mod:`iisdetect.aql.parallel_load`: the same table as one process builds).
        """
        from iisdetect.aql import load_lake, parallel_load

        if self._locked:
            raise AqlError("the table is locked for querying; load before the first query")
        lake = None if "-" in paths else load_lake.lake_files(paths)
        if lake is not None:
            return self._load_parts(
                lambda folder: load_lake.write_lake_parts(self.con, lake, self.mapping, folder, stats)
            )
        groups, workers, note = parallel_load.plan(paths, jobs)
        if note:
            self.notes.append(note)
        if not groups:
            from iisdetect.readers import iter_events

            return self.load(iter_events(paths, stats))

        def on_workers(folder: str) -> table.Written:
            self.con.close()  # no DuckDB threads in this process while workers fork (parallel_load)
            try:
                return parallel_load.write_parallel(groups, workers, self.mapping, folder, stats)
            finally:
                self.con = self._connect()

        return self._load_parts(on_workers)

    def _load_parts(self, write: Callable[[str], table.Written], tmpdir: str | None = None) -> int:
        """Parts written by ``write(folder)`` -> the tables. Without ``--db`` the base table is a view over
        parts kept in the emulator's temporary folder (docs/aql.md, "Loading"); with it, the parts go to a
        temporary folder (in ``tmpdir``), are copied into the stored table, and are removed."""
        scratch = None if self._tmpdir else tempfile.mkdtemp(prefix="iisdetect-aql-parts-", dir=tmpdir)
        folder = scratch or tempfile.mkdtemp(prefix="parts-", dir=self._tmpdir)
        if scratch is None:
            self._parts.append(folder)
        try:
            written = write(folder)
            return table.finish_load(self.con, self.mapping, written, materialise=scratch is not None).events
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def prepare(self) -> None:
        """Build the view, macros and reference sets, find "now", then lock the connection."""
        if self._locked:
            return
        if not table.has_events(self.con):
            if self.db_path:
                raise UsageError(f"{self.db_path} holds no events table: load events into it first")
            table.load_events(self.con, [], self.mapping)
        p = table.LOOKUP_PREFIX
        sources = self.con.execute(f"SELECT {p}id, {p}name FROM aql_logsources").fetchall()
        lookups.prepare(self.con, self.local, sources)
        directions = self.local.network_hierarchy is not None
        self.columns = table.create_view(self.con, self.mapping, self.sysmon_logsourcetypeid, directions)
        for macro in MACROS:
            self.con.execute(macro)
        newest = self.con.execute(f"SELECT max(starttime) FROM {table.BASE}").fetchall()[0][0]
        if self.fixed_now_ms is not None:
            self.now_ms, self.now_source = self.fixed_now_ms, "--now"
        elif newest is not None:
            self.now_ms, self.now_source = int(newest), "newest event"
        else:
            self.now_ms, self.now_source = int(datetime.now(UTC).timestamp() * 1000), "clock (no events)"
        if self._parts:  # the only files a locked connection may still read
            dirs = ", ".join(table.sql_str(os.path.join(p, "")) for p in self._parts)
            self.con.execute(f"SET allowed_directories = [{dirs}]")
        guard.lock(self.con)
        self._locked = True

    def translate(self, query: str) -> tuple[str, tuple[int | None, int | None]]:
        self.prepare()
        guard.precheck(query)
        try:
            t = compile_query(query, self.columns, self.now_ms, self.options)
        except RecursionError:  # a chain of thousands of AND/OR terms
            raise QueryRefused("query too deeply nested to translate (split its AND/OR chains)") from None
        return t.sql, t.time_range

    def query(self, query: str) -> Result:
        sql, rng = self.translate(query)
        # The temporary view and macros live on this connection only (not on cursors).
        seconds = guard.AQL_LIMITS.seconds
        timer = threading.Timer(seconds, self.con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            rel = self.con.execute(sql)
            columns = [d[0] for d in rel.description]
            rows = rel.fetchall()
        except duckdb.InterruptException:
            raise AqlError(f"query stopped after {seconds} s (limit aql_seconds)") from None
        except duckdb.OutOfMemoryException:
            raise AqlError(f"query needs more than {guard.AQL_LIMITS.memory >> 20} MB (limit aql_memory)") from None
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise AqlError(f"query failed: {first}") from exc
        finally:
            timer.cancel()
        return Result(columns, rows, self.now_ms, self.now_source, sql, rng)
