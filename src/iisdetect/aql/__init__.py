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
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from iisdetect.aql import guard, table
from iisdetect.aql.dialect import parse
from iisdetect.aql.errors import AqlError, QueryRefused
from iisdetect.aql.functions import MACROS
from iisdetect.aql.translate import Options, translate
from iisdetect.errors import UsageError
from iisdetect.mapping.qradar import QRadarMapping, load_mapping
from iisdetect.model.event import Event
from iisdetect.model.times import ms_to_iso
from iisdetect.model.userfiles import read_yaml

__all__ = ["AqlError", "Emulator", "Options", "QueryRefused", "Result", "ms_to_iso"]


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
    ) -> None:
        self.db_path = db_path
        self.mapping = mapping or load_mapping()
        self.options = options or Options()
        self.sysmon_logsourcetypeid = sysmon_logsourcetypeid
        self.reference_sets = reference_sets
        self.fixed_now_ms = now_ms
        # Without --db the table lives in a temporary database file, not in memory: DuckDB compresses
        # stored tables and its buffer manager keeps RSS bounded (in-memory tables are neither).
        self._tmpdir = None if db_path else tempfile.mkdtemp(prefix="iisdetect-aql-")
        path = db_path or os.path.join(self._tmpdir, "events.duckdb")  # type: ignore[arg-type]
        self.con = duckdb.connect(path)
        if self._tmpdir:  # removed even if close() is never reached (an exception, Ctrl-C)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        self.columns: list[str] = []
        self._locked = False

    def close(self) -> None:
        self.con.close()
        if self._tmpdir:
            self._cleanup()
            self._tmpdir = None

    def load(self, events: Iterable[Event], tmpdir: str | None = None) -> int:
        if self._locked:
            raise AqlError("the table is locked for querying; load before the first query")
        return table.load_events(self.con, events, self.mapping, tmpdir=tmpdir or self._tmpdir).events

    def prepare(self) -> None:
        """Build the view, macros and reference sets, find "now", then lock the connection."""
        if self._locked:
            return
        if not table.has_events(self.con):
            if self.db_path:
                raise UsageError(f"{self.db_path} holds no events table: load events into it first")
            table.load_events(self.con, [], self.mapping)
        self.columns = table.create_view(self.con, self.mapping, self.sysmon_logsourcetypeid)
        self.con.execute("CREATE OR REPLACE TEMP TABLE aql_refsets (name VARCHAR, value VARCHAR)")
        if self.reference_sets:
            self.con.executemany("INSERT INTO aql_refsets VALUES (?, ?)", _read_sets(self.reference_sets))
        for macro in MACROS:
            self.con.execute(macro)
        newest = self.con.execute(f"SELECT max(starttime) FROM {table.BASE}").fetchall()[0][0]
        if self.fixed_now_ms is not None:
            self.now_ms, self.now_source = self.fixed_now_ms, "--now"
        elif newest is not None:
            self.now_ms, self.now_source = int(newest), "newest event"
        else:
            self.now_ms, self.now_source = int(datetime.now(UTC).timestamp() * 1000), "clock (no events)"
        guard.lock(self.con)
        self._locked = True

    def translate(self, query: str) -> tuple[str, tuple[int | None, int | None]]:
        self.prepare()
        guard.precheck(query)
        trees, clause = parse(query)
        tree = guard.check(trees)
        t = translate(tree, clause, self.columns, self.now_ms, self.options)
        return t.sql, t.time_range

    def query(self, query: str) -> Result:
        sql, rng = self.translate(query)
        # The temporary view and macros live on this connection only (not on cursors).
        try:
            rel = self.con.execute(sql)
            columns = [d[0] for d in rel.description]
            rows = rel.fetchall()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise AqlError(f"query failed: {first}") from exc
        return Result(columns, rows, self.now_ms, self.now_source, sql, rng)


def _read_sets(path: str) -> list[tuple[str, str]]:
    """Reference sets from YAML/JSON ``{set name: [values]}`` (a CSV-free, explicit format)."""
    data = read_yaml(path, "reference sets") or {}
    if not isinstance(data, dict):
        raise UsageError(f"reference sets {path}: expected {{set name: [values]}}")
    out: list[tuple[str, str]] = []
    for name, values in data.items():
        for v in values if isinstance(values, list) else [values]:
            out.append((str(name), str(v)))
    return out
