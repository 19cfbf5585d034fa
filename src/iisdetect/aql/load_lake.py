"""A lake written by ``iisdetect convert`` -> the AQL table, with Arrow and numpy: no Python per event.

Why: loading log files is bound by the readers and by the Arrow loader's per-event Python (docs/aql.md,
"Loading": tens of thousands of events/s); a lake is columnar already. Its Parquet files are read in
batches with pyarrow (file by file, in the sorted order of :func:`lake_files`), and each batch becomes
the same Arrow batch :class:`~iisdetect.aql.load_arrow.ArrowBatch` builds from events, written by the
same :class:`~iisdetect.aql.part_writer.PartWriter`:

* a field ``convert`` also wrote as a column of its own (a plain identifier, most Windows fields) is
  read from that column, when every key of every row of the piece has one (:func:`lake_batches`);
* otherwise the ``data`` map is spread into one column per field: the map's entries are grouped by
  column (a stable sort of their column numbers), and each group is scattered to its rows; case
  variants of a name share a column and the later entry of a row wins, as in a Python dict;
* ``logsourceid``/``qid``/``category`` come from :class:`~iisdetect.aql.table.Places`, asked once per
  distinct (channel, computer, provider, event id) in first-appearance order, so the numbers are those
  the event loader gives;
* ``username`` is the first non-empty, non-``-`` user field (``SubjectDomainName\\SubjectUserName``), else
  the SID, as ``ArrowBatch.fill`` decides it.

The table is the one :func:`iisdetect.aql.table.load_events` builds from the same rows read back as
events (``lake.schema.row_event``), in the same order: ``tests/aql/test_load_lake.py`` checks it over
the converted corpus. Memory is bounded by a few batches (pieces being joined, two parts being
written). A file that is no lake file (another schema, not Parquet, damaged) is reported and skipped;
a damaged row group counts its unread rows as skipped (by the row counts in the file's footer) and
the file's other groups are still read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iisdetect.aql.load_arrow import FIXED_COLUMNS
from iisdetect.aql.part_writer import PartWriter
from iisdetect.aql.table import Places, Renamer, Written
from iisdetect.errors import UsageError
from iisdetect.lake.schema import lake_schema
from iisdetect.mapping.fields import role
from iisdetect.model.event import Event
from iisdetect.model.stats import RunStats

#: Rows per batch (one Parquet part each). Not the event loader's 65,536: a lake batch holds its values
#: several times over while it is spread (1M Sysmon rows: peak RSS 1.2 GB at 65,536, 525 MB at 16,384, as fast).
LAKE_BATCH = 16_384
_TYPES = {"string": pa.string(), "int64": pa.int64()}


def lake_files(paths: list[str]) -> list[str] | None:
    """The Parquet files of ``paths`` when they are a lake (folders walked, sorted), None when they hold
    no ``.parquet`` file; a mix of both is refused (load a lake and log files separately)."""
    from iisdetect.readers.sources import walk_files

    found: list[str] = []
    others = 0
    for path in paths:
        files = [path] if not os.path.isdir(path) else list(walk_files(path))
        for f in files:
            name = os.path.basename(f)
            if name.endswith(".parquet"):
                found.append(f)
            elif not name.startswith((".", "_")):  # Spark's _SUCCESS, .crc files: not data
                others += 1
    if found and others:
        raise UsageError("PATHs mix a lake (Parquet from `iisdetect convert`) with other files: load them separately")
    return found or None


class Piece(NamedTuple):
    """Rows of one file: the System columns and either the ``data`` map (``wide`` False) or the map's
    keys (a list of ``{key}``) and the file's wide columns, which hold the same values (``wide`` True)."""

    batch: pa.RecordBatch
    wide: bool


def lake_batches(files: list[str], stats: RunStats, batch: int = LAKE_BATCH) -> Iterator[Piece]:
    """The lake's rows, file by file, in pieces of at most ``batch`` rows, with the readers' accounting.

    Why wide columns: ``convert`` writes every plain-identifier field as a column of its own as well as
    in the map, and reading those is half the cost of reading the map, and needs no spreading. A piece
    is read that way when, in every row, the wide columns that have a value are as many as the map's
    keys: then each key has its column and its value (a field under a name that is no identifier, a
    case variant, a 257th name or a null value makes the counts differ, and the rows from there on are
    read from the map).
    """
    schema = lake_schema()
    want = {col: _TYPES[typ] for col, (_, typ) in schema.system.items()}
    mcol = schema.map_column
    for path in files:
        try:
            pf = pq.ParquetFile(path)
            have = pf.schema_arrow
        except (OSError, pa.ArrowException) as exc:
            stats.file_failed(path, "unreadable", f"not Parquet or damaged: {exc}")
            continue
        bad = [c for c, t in want.items() if have.get_field_index(c) < 0 or have.field(c).type != t]
        mtype = have.field(mcol).type if have.get_field_index(mcol) >= 0 else None
        if bad or mtype != pa.map_(pa.string(), pa.string()):
            what = f"column {bad[0]}" if bad else f"column {mcol}"
            stats.file_failed(path, "not a lake file", f"{what} missing or not of the lake's type")
            continue
        stats.files += 1
        stats.formats["parquet"] += 1
        keys_path = f"{mcol}.key_value.key"  # the map's keys alone, as pyarrow and Spark name them
        has_keys = any(pf.schema.column(i).path == keys_path for i in range(len(pf.schema)))
        wide = [f.name for f in have if f.name not in want and f.name != mcol and f.type == pa.string()]
        wide = wide if has_keys else []
        first = 1  # the row number of the group's first row, counted from 1
        for group in range(pf.num_row_groups):  # a damaged group costs its own rows, not the file's
            size = pf.metadata.row_group(group).num_rows
            done = 0
            try:
                if wide:
                    cols = [*want, keys_path, *wide]
                    for rb in pf.iter_batches(batch_size=batch, row_groups=[group], columns=cols):
                        if not _all_wide(rb, mcol, wide):
                            break
                        stats.records_read += rb.num_rows
                        done += rb.num_rows
                        yield Piece(rb, True)
                if done < size:
                    at = 0  # this read's position in the group
                    for rb in pf.iter_batches(batch_size=batch, row_groups=[group], columns=[*want, mcol]):
                        # rows read the wide way are not read again (both reads cut the group alike, so
                        # these are whole batches; the slice is for a reader that would not)
                        if at + rb.num_rows > done:
                            rest = rb.slice(max(0, done - at))
                            stats.records_read += rest.num_rows
                            done += rest.num_rows
                            yield Piece(rest.select([*want, mcol]), False)
                        at += rb.num_rows
            except (OSError, pa.ArrowException) as exc:
                where = f"row group {group} (rows {first + done}-{first + size - 1})"
                stats.skip(path, where, "parquet read error", str(exc), count=size - done)
            first += size


def _all_wide(rb: pa.RecordBatch, mcol: str, wide: list[str]) -> bool:
    """Does every row have a value in as many wide columns as its map has keys?"""
    keys = rb.column(mcol)
    lengths = pc.fill_null(pc.list_value_length(keys), 0).to_numpy(zero_copy_only=False)
    filled = np.zeros(rb.num_rows, dtype=np.int64)
    for name in wide:
        filled += np.asarray(rb.column(name).is_valid().to_numpy(zero_copy_only=False), dtype=np.int64)
    return bool(np.array_equal(filled, lengths))


class LakeBatch:
    """One lake batch -> the Arrow batch of ``FIXED_COLUMNS`` and its data columns."""

    def __init__(self, rename: Any, place: Any) -> None:
        self.rename = rename
        self.place = place
        self.users = role("user")

    def table(self, piece: Piece) -> tuple[pa.Table, list[str]]:
        """The piece's table and its data columns (first-appearance order)."""
        rb = piece.batch
        n = rb.num_rows
        get = rb.column
        text = {c: pc.fill_null(get(c), "") for c in ("Channel", "Computer", "Provider_Name", "TimeCreated",
                                                       "source", "locator")}  # fmt: skip
        eid = pc.fill_null(get("EventID"), 0)
        if piece.wide:
            data, exact = self._wide_columns(rb)
        else:
            data, exact = self._columns(*_entries(get(lake_schema().map_column)), n)
        ids = self._ids(text, eid, n)
        cols: dict[str, pa.Array] = {
            "Channel": text["Channel"], "Provider_Name": text["Provider_Name"], "EventID": pc.cast(eid, pa.string()),
            "Computer": text["Computer"], "TimeCreated": text["TimeCreated"], "EventRecordID": get("EventRecordID"),
            "UserID": get("UserID"), "iisdetect_source": text["source"], "iisdetect_locator": text["locator"],
            "logsourceid": ids[0], "qid": ids[1], "category": ids[2], "username": self._username(exact, get("UserID")),
        }  # fmt: skip
        names = [name for name, _ in FIXED_COLUMNS]
        arrays = [cols[name] for name in names]
        return pa.Table.from_arrays([*arrays, *data.values()], names=[*names, *data]), list(data)

    def _wide_columns(self, rb: pa.RecordBatch) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
        """A wide piece: every key has its own column (``lake_batches`` checked it); only their order is
        read from the map's keys."""
        keys = rb.column(lake_schema().map_column).flatten().field(0)
        uniq = pc.unique(keys).to_pylist()  # in first-appearance order over the entries, row by row
        data = {self.rename(k): rb.column(k) for k in uniq}
        exact = {f: rb.column(f) for f in (*self.users, "SubjectDomainName") if f in uniq}
        return data, exact

    def _columns(
        self, keys: pa.Array, items: pa.Array, rows: np.ndarray, n: int
    ) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
        """Data columns (case variants merged, the later entry wins), and the user fields by exact name."""
        enc = pc.dictionary_encode(keys)
        uniq = enc.dictionary.to_pylist()  # in first-appearance order over the entries, row by row
        code = enc.indices.to_numpy(zero_copy_only=False)
        names = [self.rename(k) for k in uniq]
        number = {c: i for i, c in enumerate(dict.fromkeys(names))}
        small = np.uint16 if len(number) <= 1 << 16 else np.int32  # numpy sorts 16-bit keys by radix: 2-3x faster
        entry_col = np.asarray([number[c] for c in names], dtype=small)[code]
        order = np.argsort(entry_col, kind="stable")  # entries of one column together, in entry order
        cuts = np.flatnonzero(np.diff(entry_col[order])) + 1
        data = {}
        for group in np.split(order, cuts) if len(order) else []:
            data[names[code[group[0]]]] = _scatter(items, rows, group, n)
        exact = {}
        for field in (*self.users, "SubjectDomainName"):
            if field in uniq:
                col = _scatter(items, rows, np.flatnonzero(code == uniq.index(field)), n)
                exact[field] = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
        return data, exact

    def _ids(self, text: dict[str, pa.Array], eid: pa.Array, n: int) -> list[pa.Array]:
        """logsourceid, qid, category: one ``place`` call per distinct place, in first-appearance order."""
        parts = [pc.dictionary_encode(a) for a in (text["Channel"], text["Computer"], text["Provider_Name"], eid)]
        codes = [p.indices.to_numpy(zero_copy_only=False).astype(np.int64) for p in parts]
        # two codes of at most n each per side, so no product can overflow 64 bits
        _, source = np.unique(codes[0] * len(parts[1].dictionary) + codes[1], return_inverse=True)
        _, kind = np.unique(codes[2] * len(parts[3].dictionary) + codes[3], return_inverse=True)
        _, first, where = np.unique(source * (n + 1) + kind, return_index=True, return_inverse=True)
        firsts = np.sort(first)  # the distinct places in first-appearance order
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first)] = np.arange(len(first))
        found = []
        for r in firsts.tolist():
            ch, comp, prov = (text[c][r].as_py() for c in ("Channel", "Computer", "Provider_Name"))
            ev = Event(ch, prov, eid[r].as_py(), comp, "", None, None, {}, "", "")
            found.append(self.place(ev))
        per_place = list(zip(*found, strict=True)) if found else [(), (), ()]
        index = pa.array(rank[where] if n else np.zeros(0, dtype=np.int64))
        types = (pa.int32(), pa.int64(), pa.int32())
        return [pa.array(vals, t).take(index) for vals, t in zip(per_place, types, strict=True)]

    def _username(self, exact: dict[str, pa.Array], sid: pa.Array) -> pa.Array:
        user = sid
        for field in reversed(self.users):  # the first usable field wins
            value = exact.get(field)
            if value is None:
                continue
            usable = pc.and_kleene(pc.not_equal(value, ""), pc.not_equal(value, "-"))
            usable = pc.fill_null(usable, False)
            if field == "SubjectUserName" and "SubjectDomainName" in exact:
                domain = exact["SubjectDomainName"]
                joined = pc.binary_join_element_wise(domain, value, "\\")
                has_domain = pc.fill_null(pc.not_equal(domain, ""), False)
                value = pc.if_else(has_domain, joined, value)
            user = pc.if_else(usable, value, user)
        return user


def write_lake_parts(
    con: Any, files: list[str], mapping: Any, folder: str, stats: RunStats, batch: int = LAKE_BATCH
) -> Written:
    """Write the lake's rows as the AQL table's Parquet parts in ``folder`` (as ``table.write_parts``).

    Pieces of small files are joined until a part holds ``batch`` rows: a lake partitioned by day holds
    many small files (the converted corpus: 499 files for 186k rows), and a part each made the load 4x
    slower.
    """
    out = Written()
    rename = Renamer()
    rows = LakeBatch(rename, Places(mapping, out))
    writer = PartWriter(con, mapping, folder, in_flight=2)
    held: list[tuple[pa.Table, list[str]]] = []
    count = 0
    try:
        for piece in lake_batches(files, stats, batch):
            if piece.batch.num_rows:
                held.append(rows.table(piece))
                count += piece.batch.num_rows
            if count >= batch:
                writer.submit(*_joined(held))
                out.events += count
                held, count = [], 0
        if held:
            writer.submit(*_joined(held))
            out.events += count
        writer.wait()
    finally:
        writer.wait(raise_error=False)
    out.parts = writer.parts
    out.columns = list(rename.order)
    return out


def _joined(tables: list[tuple[pa.Table, list[str]]]) -> tuple[pa.Table, list[str]]:
    """Pieces as one table: columns by name, NULL where a piece has none (sparse columns decoded first)."""
    if len(tables) == 1:
        return tables[0]
    plain = []
    for t, _ in tables:
        for i, f in enumerate(t.schema):
            if pa.types.is_dictionary(f.type):
                t = t.set_column(i, f.name, t.column(i).cast(pa.string()))
        plain.append(t)
    names = list(dict.fromkeys(c for _, cols in tables for c in cols))
    return pa.concat_tables(plain, promote_options="default"), names


def _entries(m: pa.MapArray) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """The map's entries of valid rows: keys, values (null read as ""), and each entry's row.

    Offsets are used directly: ``MapArray.keys`` ignores a slice's offset, and list kernels are not
    used on map arrays (``list_parent_indices`` aborts on one in pyarrow 26).
    """
    offsets = m.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    start, stop = int(offsets[0]), int(offsets[-1])
    lengths = np.diff(offsets)
    keys, items = m.keys.slice(start, stop - start), pc.fill_null(m.items.slice(start, stop - start), "")
    if m.null_count:  # a null map is no fields (row_event reads it as {}), whatever its segment holds
        valid = np.asarray(m.is_valid().to_numpy(zero_copy_only=False))
        keep = np.repeat(valid, lengths)
        lengths = np.where(valid, lengths, 0)
        keys, items = keys.filter(pa.array(keep)), items.filter(pa.array(keep))
    rows = np.repeat(np.arange(len(m), dtype=np.int64), lengths)
    return keys, items, rows


def _scatter(items: pa.Array, rows: np.ndarray, entries: np.ndarray, n: int) -> pa.Array:
    """A column of ``n`` rows from these entries (ascending); a row's later entry wins; null elsewhere.

    A column that only some rows have is a dictionary array (its values, and per row the index of its
    value or null), decoded on the writer's thread by ``load_arrow.base_part`` as the event loader's are:
    a full-length ``take`` per column cost most of a wide, sparse load (868 columns in the corpus).
    """
    at = rows[entries]
    if len(at) > 1 and (dup := at[1:] == at[:-1]).any():
        keep = np.ones(len(at), dtype=bool)
        keep[:-1] = ~dup  # an entry followed by one for the same row gives way to it
        entries, at = entries[keep], at[keep]
    values = items.take(pa.array(entries))
    if len(at) == n:  # every row has it, one entry each, in row order
        return values
    where = np.full(n, -1, dtype=np.int32)
    where[at] = np.arange(len(at), dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(where, mask=where < 0), values)
