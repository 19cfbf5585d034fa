"""``iisdetect convert``: canonical events to Parquet (or NDJSON), partitioned, in bounded batches.

Why: a lake query engine (DuckDB, Spark, Trino) reads columnar files, not EVTX. Rows are buffered
per partition up to ``batch_rows`` in total, then each partition's rows become one new file
(``day=YYYY-MM-DD/part-<run>-<n>.parquet``), so memory is bounded by one batch whatever the
input, and a second run over new inputs only adds files (existing ones are never rewritten).
Readers' accounting (skips named) is the same as hunt's.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from iisdetect.errors import UsageError
from iisdetect.lake.schema import LakeSchema, event_row, lake_schema, partition_dir, wide_name
from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

FORMATS = ("parquet", "ndjson")


@dataclass
class ConvertResult:
    stats: RunStats
    rows: int = 0
    files: list[str] = field(default_factory=list)
    partitions: set[str] = field(default_factory=set)


def _arrow_table(rows: list[dict[str, Any]], schema: LakeSchema) -> Any:
    """One batch as an Arrow table: System columns, the map of every field, and the wide columns.

    Why built column by column in one pass over each row's fields: filling each wide column with
    its own pass over the batch cost rows x columns (most of ``convert``'s time on busy-IIS data),
    and converting the map from Python pairs was as slow again; ``MapArray.from_arrays`` takes flat
    key and value lists with offsets.
    """
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64()}
    fields = [pa.field(col, types[typ]) for col, (_, typ) in schema.system.items()]
    map_type = pa.map_(pa.string(), pa.string())
    fields.append(pa.field(schema.map_column, map_type))
    mcol = schema.map_column
    arrays: dict[str, Any] = {
        col: pa.array([r[col] for r in rows], type=types[typ]) for col, (_, typ) in schema.system.items()
    }
    keys: list[str] = []
    values: list[str] = []
    offsets = [0]
    for r in rows:
        m = r[mcol]
        keys.extend(m)
        values.extend(m.values())
        offsets.append(len(keys))
    arrays[mcol] = pa.MapArray.from_arrays(
        pa.array(offsets, type=pa.int32()), pa.array(keys, type=pa.string()), pa.array(values, type=pa.string())
    )
    wide: list[str] = []
    seen: set[str] = set()
    for name in keys:
        if name not in seen:
            seen.add(name)
            if wide_name(name, schema) and len(wide) < schema.max_wide_columns:
                wide.append(name)
    lowered: set[str] = set()
    filled: dict[str, list[Any]] = {}
    for name in sorted(wide):
        if name.lower() in lowered:  # Spark resolves names case-insensitively: keep the first
            continue
        lowered.add(name.lower())
        fields.append(pa.field(name, pa.string()))
        filled[name] = [None] * len(rows)
    for i, r in enumerate(rows):
        for k, v in r[mcol].items():
            col = filled.get(k)
            if col is not None:
                col[i] = v
    for name, col in filled.items():
        arrays[name] = pa.array(col, type=pa.string())
    return pa.Table.from_arrays([arrays[f.name] for f in fields], schema=pa.schema(fields))


class _Writer:
    def __init__(self, out: Path, fmt: str, schema: LakeSchema, partitions: tuple[str, ...]) -> None:
        self.out, self.fmt, self.schema, self.partitions = out, fmt, schema, partitions
        self.run = uuid.uuid4().hex[:12]
        self.n = 0
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.buffered = 0
        self.keys: dict[tuple[str, str], str] = {}

    def add(self, event: Event, result: ConvertResult) -> None:
        # partition_dir percent-encodes its values: asked once per (day, host), not once per row
        # (quote() was an eighth of convert's time on a Security log)
        seen = (event.time_created[:10], event.computer)
        key = self.keys.get(seen)
        if key is None:
            key = partition_dir(event, self.partitions)
            if len(self.keys) < 10_000:  # bounded: hostile input may vary hosts forever
                self.keys[seen] = key
        self.pending[key].append(event_row(event, self.schema))
        self.buffered += 1
        if self.buffered >= self.schema.batch_rows:
            self.flush(result)

    def flush(self, result: ConvertResult) -> None:
        for key, rows in self.pending.items():
            folder = self.out / key
            folder.mkdir(parents=True, exist_ok=True)
            self.n += 1
            path = folder / f"part-{self.run}-{self.n:05d}.{'parquet' if self.fmt == 'parquet' else 'ndjson'}"
            tmp = path.with_name(path.name + ".tmp")
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(_arrow_table(rows, self.schema), tmp, compression="zstd")
            else:
                with open(tmp, "wb") as fh:
                    for r in rows:
                        fh.write(orjson.dumps(r) + b"\n")
            os.replace(tmp, path)  # a reader never sees half a file
            result.files.append(str(path))
            result.partitions.add(key)
            result.rows += len(rows)
        self.pending.clear()
        self.buffered = 0


def convert(
    paths: Iterable[str],
    out_dir: str,
    fmt: str = "parquet",
    partition_host: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ConvertResult:
    """Read ``paths`` (every format hunt reads) and write the canonical table under ``out_dir``."""
    from iisdetect.readers import iter_events

    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out_dir}: exists and is not a folder")
    schema = lake_schema()
    partitions = (*schema.partitions, "host") if partition_host else schema.partitions
    result = ConvertResult(RunStats())
    writer = _Writer(out, fmt, schema, partitions)
    try:
        for event in iter_events(list(paths), result.stats, on_progress=on_progress):
            writer.add(event, result)
        writer.flush(result)
    except OSError as exc:
        raise UsageError(f"cannot write under {out_dir}: {exc.strerror or exc}") from None
    return result
