"""Finished Arrow batches -> Parquet parts, on one worker thread while the next batch is built.

Why a thread: pyarrow builds and writes a part without the GIL, so the loader's Python half (filling
the next :class:`~iisdetect.aql.load_arrow.ArrowBatch`) runs meanwhile; at most two batches are alive.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from functools import partial

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from iisdetect.aql.load_arrow import base_part, orig_name
from iisdetect.mapping.qradar import QRadarMapping

#: The name a batch's times are registered under while DuckDB reads them (never a user-visible table).
_BATCH_VIEW = "aql_load_batch"


class PartWriter:
    """Writes finished Arrow batches as Parquet parts on worker threads (pyarrow releases the GIL).

    At most ``in_flight`` parts are written at once (each thread reads its batch's times on a DuckDB
    cursor of its own); :meth:`submit` waits for the oldest beyond that. Parts are named in submission
    order. The event loader uses one (its Python half is the slower one); the lake loader, whose
    writing is the slower half, two.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        mapping: QRadarMapping,
        folder: str,
        prefix: str = "part-",
        in_flight: int = 1,
    ) -> None:
        self.con = con
        self.mapping = mapping
        self.folder = folder
        self.prefix = prefix
        self.in_flight = max(1, in_flight)
        self.parts: list[str] = []
        self.threads: deque[threading.Thread] = deque()
        self.errors: list[BaseException] = []

    def submit(self, batch: pa.Table, data_cols: list[str]) -> None:
        while len(self.threads) >= self.in_flight:
            self.threads.popleft().join()
        self._raise()
        path = os.path.join(self.folder, f"{self.prefix}{len(self.parts):06d}.parquet")
        self.parts.append(path)
        cursor = self.con.cursor()  # a DuckDB connection is not used by two threads at once
        thread = threading.Thread(target=self._run, args=(cursor, batch, list(data_cols), path), daemon=True)
        self.threads.append(thread)
        thread.start()

    def wait(self, raise_error: bool = True) -> None:
        while self.threads:
            self.threads.popleft().join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self.errors:
            err, self.errors = self.errors[0], []
            raise err

    def _run(self, cursor: duckdb.DuckDBPyConnection, batch: pa.Table, data_cols: list[str], path: str) -> None:
        try:
            present = {orig_name(c).lower(): c for c in data_cols}
            ips = {c: [present[f.lower()] for f in self.mapping.columns.get(c, ()) if f.lower() in present]
                   for c in ("sourceip", "destinationip")}  # fmt: skip
            part = base_part(batch, data_cols, partial(_epoch_ms, cursor), self.mapping.default_devicetype, ips)
            pq.write_table(part, path, write_statistics=_STATS)  # pyarrow writes without the GIL
        except BaseException as exc:  # re-raised on the caller's thread by wait() or the next submit()
            self.errors.append(exc)
        finally:
            cursor.close()


def _epoch_ms(cursor: duckdb.DuckDBPyConnection, times: pa.Array) -> pa.Array:
    """``starttime``: DuckDB's own reading of ``TimeCreated`` (the one the NDJSON loader used)."""
    cursor.register(_BATCH_VIEW, pa.table({"t": times}))
    try:
        sql = f"SELECT epoch_ms(TRY_CAST(NULLIF(t, '') AS TIMESTAMPTZ)) AS s FROM {_BATCH_VIEW}"
        return cursor.sql(sql).to_arrow_table().column(0).combine_chunks().cast(pa.int64())
    finally:
        cursor.unregister(_BATCH_VIEW)


#: Columns whose Parquet min/max statistics are written: the numbers and names a query filters on by
#: range or equality. Statistics of the data columns (free text, mostly) prune nothing and were a
#: quarter of a part's writing time.
_STATS = ["starttime", "devicetime", "logsourceid", "devicetype", "qid", "category", "EventID", "EventRecordID"]
