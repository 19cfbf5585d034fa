"""Canonical events -> bounded Arrow record batches for the ``aql_events_base`` table.

Why Arrow: the former loader wrote every event as an NDJSON line and let DuckDB's ``read_json``
parse it back into a DuckDB table (issue 18: ~106k events/s; DuckDB's JSON reader alone tops out
near 200k rows/s, and its table writer is slow for these wide, sparse rows). Building columns
directly skips the JSON writer and parser; ``part_writer.PartWriter`` writes each batch as a Parquet part.

The per-event Python work is kept to a minimum (:meth:`ArrowBatch.fill`): one small tuple (time,
record id, SID, locator, user, and the index of the event's *place*: the channel, computer,
provider, event id and source that repeat, built once), and the event's ``data`` dict filed under
its *shape* (the tuple of its keys: events of one provider and event id share one). Columns are made
when a batch is full: each shape's values are transposed in C (``zip(*map(dict.values, ...))``), and
a data column present in only part of the rows becomes a dictionary array over its values with the
row index as indices (nulls elsewhere), decoded to a plain string column on the writer's thread.
Memory is bounded by the two batches in flight.

The loader pauses Python's cyclic garbage collector while it runs (``table.write_parts``): a batch
holds tens of thousands of live dicts and tuples, every allocation threshold crossed then walks them
all, and that alone cost 4-8x on building a batch (measured: transposing 65,536 events 0.50 s with the
collector on, 0.12 s off). The loader's objects hold no reference cycles; plain reference counting
frees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iisdetect.mapping.fields import role
from iisdetect.model.event import Event

#: Fixed columns of a batch (before the data columns).
FIXED_COLUMNS = (
    ("Channel", pa.string()), ("Provider_Name", pa.string()), ("EventID", pa.int64()),
    ("Computer", pa.string()), ("TimeCreated", pa.string()), ("EventRecordID", pa.int64()),
    ("UserID", pa.string()), ("iisdetect_source", pa.string()), ("iisdetect_locator", pa.string()),
    ("logsourceid", pa.int32()), ("qid", pa.int64()), ("category", pa.int32()), ("username", pa.string()),
)  # fmt: skip
#: Per-event values in each row tuple built by :meth:`ArrowBatch.fill`; the other fixed columns come
#: from the event's *place* (channel, computer, provider, event id, source: few per load), by index.
_ROW = ("_place", "TimeCreated", "EventRecordID", "UserID", "iisdetect_locator", "username")
_PLACE = ("Channel", "Computer", "Provider_Name", "EventID", "iisdetect_source", "logsourceid", "qid", "category")

_BIG = 1 << 63


class ArrowBatch:
    """Collects up to a batch of events; :meth:`table` turns them into one Arrow table."""

    def __init__(self, rename: Callable[[str], str]) -> None:
        self.rename = rename
        self.rows: list[tuple[Any, ...]] = []
        #: keys of ``data`` -> (row numbers, data dicts)
        self.shapes: dict[tuple[str, ...], tuple[list[int], list[dict[str, str]], tuple[str, ...]]] = {}
        self.user_fields = role("user")
        #: place -> its index in ``_place_rows``
        self._places: dict[tuple[str, str, str, int, str], int] = {}
        self._place_rows: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def fill(self, events: Iterator[Event], limit: int, place: Callable[[Event], tuple[int, int, int]]) -> int:
        """File up to ``limit`` events from ``events``; returns how many were taken (0: exhausted).

        ``place(event)`` gives ``(logsourceid, qid, category)``; it is asked once per (channel, computer,
        provider, event id, source), the answers are kept here. The loop is written out for speed: it
        is the only per-event Python work of a load.
        """
        rows = self.rows
        append = rows.append
        shapes = self.shapes
        known = self._places
        users = self.user_fields
        n0 = n = len(rows)
        end = n0 + limit
        for ev in events:
            where = (ev.channel, ev.computer, ev.provider, ev.event_id, ev.source)
            got = known.get(where)
            if got is None:
                got = known[where] = len(self._place_rows)
                self._place_rows.append(where + place(ev))
            data = ev.data
            keys = tuple(data)
            shape = shapes.get(keys)
            if shape is None:
                shape = shapes[keys] = ([], [], tuple(k for k in users if k in data))
            shape[0].append(n)
            shape[1].append(data)
            user = ev.user_sid
            for key in shape[2]:  # fields.user_name(), over the user fields this shape has
                value = data[key]
                if value and value != "-":
                    if key == "SubjectUserName" and data.get("SubjectDomainName"):
                        value = f"{data['SubjectDomainName']}\\{value}"
                    user = value
                    break
            rid = ev.record_id
            if rid is not None and not -_BIG <= rid < _BIG:
                rid = None  # a forged id above 2^63 must not end the load; it stays in the locator
            append((got, ev.time_created, rid, ev.user_sid, ev.locator, user))
            n += 1
            if n >= end:
                break
        return n - n0

    def columns_seen(self) -> None:
        """Register this batch's data columns with the renamer, in first-appearance order."""
        for keys in self.shapes:
            for k in keys:
                self.rename(k)

    def table(self, data_cols: list[str]) -> pa.Table:
        """The batch as Arrow: the fixed columns, then every one of ``data_cols`` (null where absent)."""
        n = len(self.rows)
        per_row = dict(zip(_ROW, zip(*self.rows, strict=True), strict=True))
        per_place = dict(zip(_PLACE, zip(*self._place_rows, strict=True), strict=True))
        place = pa.array(per_row["_place"], pa.int32())
        arrays: list[pa.Array] = []
        names: list[str] = []
        for name, kind in FIXED_COLUMNS:
            if name in per_place:
                values = per_place[name]
                arr = (_strings(values) if kind == pa.string() else pa.array(values, kind)).take(place)
            else:
                values = per_row[name]
                arr = _strings(values) if kind == pa.string() else pa.array(values, kind)
            if name == "EventID":  # QRadar's property is a string
                arr = pc.cast(arr, pa.string())
            arrays.append(arr)
            names.append(name)
        parts: dict[str, list[tuple[int, list[int], tuple[Any, ...]]]] = {}
        for shape_no, (keys, (rows, dicts, _)) in enumerate(self.shapes.items()):
            if not keys:
                continue
            by_col: dict[str, int] = {}
            for j, k in enumerate(keys):  # case variants share a column: the last one wins, as a dict would
                by_col[self.rename(k)] = j
            transposed = list(zip(*map(dict.values, dicts), strict=True))
            for col, j in by_col.items():
                parts.setdefault(col, []).append((shape_no, rows, transposed[j]))
        spreads: dict[tuple[int, ...], pa.Array | None] = {}  # columns of the same shapes share one index
        for col in data_cols:
            arrays.append(_spread(parts.get(col), n, spreads))
            names.append(col)
        self.rows = []
        self.shapes = {}
        return pa.Table.from_arrays(arrays, names=names)


def base_part(
    batch: pa.Table,
    data_cols: list[str],
    epoch_ms: Callable[[pa.Array], pa.Array],
    devicetype: int,
    ips: dict[str, list[str]],
) -> pa.Table:
    """One batch in the base table's column order and types (``table.FIXED`` then ``data_cols``), less
    the data columns this batch has no value in.

    Why leave those out: a part used to carry every column seen so far, mostly empty (the corpus has
    394, a Sysmon batch fills about 20), and writing and scanning the empty ones was most of the cost.

    ``sourceip``/``destinationip`` are the first non-empty of the mapping's fields (``ips``: column
    names present), as ``table._first_non_empty`` writes it in SQL.
    """
    n = batch.num_rows
    start = epoch_ms(batch.column("TimeCreated"))
    cols: dict[str, Any] = {
        "starttime": start, "devicetime": start, "logsourceid": batch.column("logsourceid"),
        "devicetype": pa.array(np.full(n, devicetype, dtype=np.int32)), "qid": batch.column("qid"),
        "category": batch.column("category"), "eventcount": pa.array(np.ones(n, dtype=np.int32)),
        "username": batch.column("username"),
        "sourceip": _first_non_empty(batch, ips["sourceip"], n),
        "destinationip": _first_non_empty(batch, ips["destinationip"], n),
    }  # fmt: skip
    fixed = ("Channel", "Provider_Name", "EventID", "Computer", "TimeCreated", "EventRecordID", "UserID",
             "iisdetect_source", "iisdetect_locator")  # fmt: skip
    for name in (*fixed, *data_cols):
        col = batch.column(name)
        if col.null_count == n and name not in fixed:
            continue  # a column this batch lacks is left out: read_parquet(union_by_name) gives NULL there
        # a sparse column arrives as a dictionary array (see _spread): decoded here, on the writer's
        # thread, because DuckDB scans a Parquet part written from one 2-3x slower (seed query)
        cols[name] = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
    return pa.table(cols)


def orig_name(col: str) -> str:
    """The Windows name of a stored column (``EventData.Category`` -> ``Category``)."""
    return col[len("EventData.") :] if col.startswith("EventData.") else col


def _first_non_empty(batch: pa.Table, names: list[str], n: int) -> pa.Array:
    """``COALESCE(NULLIF(a, ''), NULLIF(b, ''), ...)`` over Arrow columns."""
    if not names:
        return pa.nulls(n, pa.string())
    empty = pa.scalar(None, pa.string())
    cols = [batch.column(x) for x in names]
    cols = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in cols]
    parts = [pc.if_else(pc.equal(c, ""), empty, c) for c in cols]
    return parts[0] if len(parts) == 1 else pc.coalesce(*parts)


def _spread(
    parts: list[tuple[int, list[int], tuple[Any, ...]]] | None, n: int, cache: dict[tuple[int, ...], pa.Array | None]
) -> pa.Array:
    """One data column of ``n`` rows from (shape, row numbers, values) parts; null where no part has a value.

    The index that spreads the values to their rows depends only on which shapes have the column:
    ``cache`` keeps it per set of shapes (most columns belong to one shape with many others).
    """
    if not parts:
        return pa.nulls(n, pa.string())
    key = tuple(p[0] for p in parts)
    if key not in cache:
        if len(parts) == 1 and len(parts[0][1]) == n:
            cache[key] = None  # every row has it, in row order
        else:
            rows = np.concatenate([np.asarray(p[1], dtype=np.int64) for p in parts])
            where = np.full(n, -1, dtype=np.int64)
            where[rows] = np.arange(len(rows), dtype=np.int64)
            cache[key] = pa.array(where, mask=where < 0)
    index = cache[key]
    values = _strings(parts[0][2] if len(parts) == 1 else list(chain.from_iterable(p[2] for p in parts)))
    # Not ``values.take(index)`` here: a dictionary array (the values as dictionary, the row index as
    # indices) costs nothing to build; the writer's thread decodes it (base_part), off this thread.
    return values if index is None else pa.DictionaryArray.from_arrays(index, values)


def _strings(values: Any) -> pa.Array:
    """Python strings -> an Arrow string array; a value Arrow refuses (a lone surrogate, a non-str) is
    made printable text instead of ending the load."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return pa.array([_clean(v) for v in values], pa.string())


def _clean(v: Any) -> str | None:
    if v is None:
        return None
    s = v if isinstance(v, str) else str(v)
    return s.encode("utf-8", "replace").decode("utf-8")
