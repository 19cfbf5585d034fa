"""Finished Arrow batches -> Parquet parts, on one worker thread while the next batch is built.

Why a thread: pyarrow builds and writes a part without the GIL, so the loader's Python half (filling
the next :class:`~iisdetect.aql.load_arrow.ArrowBatch`) runs meanwhile; at most two batches are alive.
"""

from __future__ import annotations

import os
import threading

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from iisdetect.aql.load_arrow import base_part, orig_name
from iisdetect.mapping.qradar import QRadarMapping

#: The name a batch's times are registered under while DuckDB reads them (never a user-visible table).
_BATCH_VIEW = "aql_load_batch"


class PartWriter:
    """Writes finished Arrow batches as Parquet parts on one worker thread (pyarrow releases the GIL)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, mapping: QRadarMapping, folder: str, prefix: str = "part-"
    ) -> None:
        self.con = con
        self.mapping = mapping
        self.folder = folder
        self.prefix = prefix
        self.parts: list[str] = []
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def submit(self, batch: pa.Table, data_cols: list[str]) -> None:
        self.wait()
        path = os.path.join(self.folder, f"{self.prefix}{len(self.parts):06d}.parquet")
        self.parts.append(path)
        self.thread = threading.Thread(target=self._run, args=(batch, list(data_cols), path), daemon=True)
        self.thread.start()

    def wait(self, raise_error: bool = True) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None and raise_error:
            err, self.error = self.error, None
            raise err

    def _run(self, batch: pa.Table, data_cols: list[str], path: str) -> None:
        try:
            present = {orig_name(c).lower(): c for c in data_cols}
            ips = {c: [present[f.lower()] for f in self.mapping.columns.get(c, ()) if f.lower() in present]
                   for c in ("sourceip", "destinationip")}  # fmt: skip
            part = base_part(batch, data_cols, self._epoch_ms, self.mapping.default_devicetype, ips)
            pq.write_table(part, path)  # pyarrow writes without the GIL
        except BaseException as exc:  # re-raised on the caller's thread by wait()
            self.error = exc

    def _epoch_ms(self, times: pa.Array) -> pa.Array:
        """``starttime``: DuckDB's own reading of ``TimeCreated`` (the one the NDJSON loader used)."""
        self.con.register(_BATCH_VIEW, pa.table({"t": times}))
        try:
            sql = f"SELECT epoch_ms(TRY_CAST(NULLIF(t, '') AS TIMESTAMPTZ)) AS s FROM {_BATCH_VIEW}"
            return self.con.sql(sql).to_arrow_table().column(0).combine_chunks().cast(pa.int64())
        finally:
            self.con.unregister(_BATCH_VIEW)
