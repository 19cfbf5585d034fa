"""Events -> a DuckDB ``events`` table shaped like QRadar's, plus its lookup tables.

Storage is one base table, ``aql_events_base``: QRadar's columns (``starttime``/``devicetime`` in
epoch milliseconds, ``logsourceid``, ``devicetype``, ``qid``, ``category``, ``username``,
``sourceip``, ``destinationip``, ``eventcount``), the System fields (``EventID`` as a string, as
QRadar's property is) and every EventData field under its Windows name. ``events`` is a view laid
over it at query time from :mod:`iisdetect.mapping.qradar`, so IBM property names ("Process Path",
"Command", ...), ``logsourcetypeid`` and ``payload`` follow the current mapping and switches
without reloading. ``flows`` is an empty table.

Loading builds bounded Arrow batches from the events (:mod:`iisdetect.aql.load_arrow`) and inserts
each one with a ``SELECT`` over the registered batch, on a worker thread while the next batch is
built (docs/aql.md, "Loading"); event values never enter SQL text.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from iisdetect.aql.load_arrow import FIXED_COLUMNS, ArrowBatch
from iisdetect.aql.load_arrow import orig_name as _orig
from iisdetect.aql.part_writer import PartWriter
from iisdetect.aql.payload import payload_sql
from iisdetect.mapping.fields import event_name
from iisdetect.mapping.qradar import QRadarMapping
from iisdetect.model.event import Event

BASE = "aql_events_base"
#: Columns of the base table that are not EventData (lower-cased for collision checks).
FIXED = (
    "starttime", "devicetime", "logsourceid", "devicetype", "qid", "category", "eventcount",
    "username", "sourceip", "destinationip", "Channel", "Provider_Name", "EventID", "Computer",
    "TimeCreated", "EventRecordID", "UserID", "iisdetect_source", "iisdetect_locator",
)  # fmt: skip
#: Names the view adds; EventData fields may not take them either.
VIEW_ONLY = ("logsourcetypeid", "payload", "endtime", "highlevelcategory", "Event ID", "devicegrouplist")
_RESERVED = {n.lower() for n in FIXED + VIEW_ONLY}
#: Lookup tables name their columns with this prefix, and no data column may start with it: inside
#: a lookup's subquery an argument such as ``qid`` must bind to the events row, never to the
#: lookup table (the cause of "More than one row returned by a subquery").
LOOKUP_PREFIX = "aql_lk_"
#: QRadar's numeric and boolean event fields (the rest of mapping ``event_fields`` are strings).
EVENT_FIELD_TYPES = {
    **dict.fromkeys(("sourceport", "destinationport", "magnitude", "severity", "credibility", "relevance",
                     "protocolid", "domainid", "processorid"), "INTEGER"),
    **dict.fromkeys(("hasidentity", "hasoffense", "isunparsed"), "BOOLEAN"),
}  # fmt: skip
_INT_COLUMNS = {"logsourceid": "INTEGER", "qid": "BIGINT", "category": "INTEGER", "EventRecordID": "BIGINT"}


def quote(name: str) -> str:
    """A DuckDB identifier, always quoted (names come from data: never trust them)."""
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    """A DuckDB string literal for names the emulator itself chooses (mapping, lookups)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class LoadResult:
    events: int = 0
    columns: list[str] = field(default_factory=list)


class Renamer:
    """EventData key -> base column: case-insensitive unique, clear of QRadar's own columns."""

    def __init__(self) -> None:
        self.by_lower: dict[str, str] = {}
        self.cache: dict[str, str] = {}
        self.order: list[str] = []

    def __call__(self, key: str) -> str:
        col = self.cache.get(key)
        if col is None:
            low = key.lower()
            if low in _RESERVED or low.startswith(("eventdata.", LOOKUP_PREFIX)) or not key:  # "" is no identifier
                key2 = "EventData." + key
                low = key2.lower()
            else:
                key2 = key
            col = self.by_lower.get(low)
            if col is None:
                col = self.by_lower[low] = key2
                self.order.append(col)
            self.cache[key] = col
        return col


#: Events per Arrow batch: bounds memory (one batch of events and its columns) while DuckDB writes
#: the previous batch on a worker thread.
BATCH = 65_536


@dataclass
class Written:
    """What :func:`write_parts` wrote: its Parquet parts and the ids it gave, in first-appearance order.

    ``sources``: (channel, computer) -> logsourceid; ``qids``: (provider lower, event id) -> (qid,
    name, category). A parallel load (:mod:`iisdetect.aql.parallel_load`) merges several of these.
    """

    parts: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    sources: dict[tuple[str, str], int] = field(default_factory=dict)
    qids: dict[tuple[str, int], tuple[int, str, int]] = field(default_factory=dict)
    events: int = 0


class Places:
    """Log source ids and QIDs, numbered in first-appearance order (one home: the event, parallel and lake
    loaders all number through it).

    ``sources``: (channel, computer) -> logsourceid from ``first_log_source_id`` on; ``qids``:
    (provider lower, event id) -> (qid, name, category), the mapping's QID where it has one, else
    ``synthetic_qid_base`` + order.
    """

    def __init__(self, mapping: QRadarMapping, out: Written) -> None:
        self.mapping = mapping
        self.sources = out.sources
        self.qids = out.qids

    def __call__(self, ev: Event) -> tuple[int, int, int]:
        """``(logsourceid, qid, category)`` of an event (its name: ``event_name`` of the first one met)."""
        q = self.qid((ev.provider.lower(), ev.event_id), ev)
        return self.source((ev.channel, ev.computer)), q[0], q[2]

    def source(self, key: tuple[str, str]) -> int:
        ls = self.sources.get(key)
        if ls is None:
            ls = self.sources[key] = self.mapping.first_log_source_id + len(self.sources)
        return ls

    def qid(self, key: tuple[str, int], first: Event | str) -> tuple[int, str, int]:
        """The QID of ``key``; a new one is named after ``first`` (an event, or the name itself)."""
        q = self.qids.get(key)
        if q is None:
            known = self.mapping.qids.get(key)
            m = self.mapping
            num, cat = known if known else (m.synthetic_qid_base + len(self.qids), m.default_category)
            q = self.qids[key] = (num, first if isinstance(first, str) else event_name(first), cat)
        return q


def write_parts(
    con: duckdb.DuckDBPyConnection,
    events: Iterable[Event],
    mapping: QRadarMapping,
    folder: str,
    batch: int = BATCH,
    prefix: str = "part-",
) -> Written:
    """Write ``events`` as Parquet parts in ``folder`` (``con`` only reads each batch's times)."""
    rename = Renamer()
    out = Written()
    place = Places(mapping, out)
    writer = PartWriter(con, mapping, folder, prefix)
    rows = ArrowBatch(rename)
    gc_was_on = gc.isenabled()
    gc.disable()  # see the docstring of load_arrow: millions of live objects make each collection costly
    try:
        stream = iter(events)
        while taken := rows.fill(stream, batch, place):
            out.events += taken
            rows.columns_seen()
            writer.submit(rows.table(rename.order), rename.order)
        writer.wait()
    finally:
        if gc_was_on:
            gc.enable()
        writer.wait(raise_error=False)
    out.parts = writer.parts
    out.columns = list(rename.order)
    return out


def load_events(
    con: duckdb.DuckDBPyConnection,
    events: Iterable[Event],
    mapping: QRadarMapping,
    tmpdir: str | None = None,
    batch: int = BATCH,
    parts_dir: str | None = None,
) -> LoadResult:
    """(Re)create the base and lookup tables from ``events``. Returns counts and data columns.

    Each batch is written as one Parquet part (pyarrow). With ``parts_dir`` the parts stay there and
    ``aql_events_base`` is a view over them (the fast path: DuckDB's table writer is several times
    slower than its Parquet writer for these wide, sparse rows); without it they go to a temporary
    folder (in ``tmpdir``) and are copied into a stored table, then deleted (``--db FILE``: one
    self-contained file).
    """
    scratch = None if parts_dir else tempfile.mkdtemp(prefix="iisdetect-aql-parts-", dir=tmpdir)
    try:
        written = write_parts(con, events, mapping, parts_dir or scratch, batch)  # type: ignore[arg-type]
        return finish_load(con, mapping, written, materialise=scratch is not None)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def finish_load(
    con: duckdb.DuckDBPyConnection, mapping: QRadarMapping, written: Written, materialise: bool
) -> LoadResult:
    """The base table (``materialise``) or view over ``written``'s parts, and the lookup tables."""
    _base(con, mapping, written.parts, written.columns, materialise)
    _lookup_tables(con, mapping, written.sources, written.qids)
    return LoadResult(written.events, list(written.columns))


def _first_non_empty(fields: tuple[str, ...], present: dict[str, str]) -> str:
    """SQL for the first non-empty of ``fields`` (Windows names; ``present``: lower name -> column)."""
    cols = [f"NULLIF({quote(present[f.lower()])}, '')" for f in fields if f.lower() in present]
    if not cols:
        return "CAST(NULL AS VARCHAR)"
    return cols[0] if len(cols) == 1 else f"COALESCE({', '.join(cols)})"


def _base(
    con: duckdb.DuckDBPyConnection, mapping: QRadarMapping, parts: list[str], data_cols: list[str], materialise: bool
) -> None:
    """The base table (or view) over every part; an empty table of the right shape for no events."""
    for kind in ("VIEW", "TABLE"):  # whichever an earlier load left
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_type LIKE ?",
            [BASE, "%" + ("VIEW" if kind == "VIEW" else "TABLE")],
        ).fetchall()[0][0]
        if found:
            con.execute(f"DROP {kind} {BASE}")
    con.execute("DROP VIEW IF EXISTS events")
    if not parts:
        cols = ", ".join(f"CAST(NULL AS {_INT_COLUMNS.get(k, 'VARCHAR')}) AS {quote(k)}" for k, _ in FIXED_COLUMNS)
        select = ", ".join(_select(mapping, []))
        con.execute(f"CREATE TABLE {BASE} AS SELECT {select} FROM (SELECT {cols} LIMIT 0)")
        return
    stored = set(chain.from_iterable(pq.read_schema(p).names for p in parts))
    files = "[" + ", ".join(sql_str(p) for p in parts) + "]"
    source = f"read_parquet({files}, union_by_name = true)"
    # a data column that is empty in every part is in no part (load_arrow.base_part): NULL, as a string
    select = ", ".join(
        quote(c) if c in stored or c in FIXED else f"CAST(NULL AS VARCHAR) AS {quote(c)}" for c in (*FIXED, *data_cols)
    )
    kind = "TABLE" if materialise else "VIEW"
    con.execute(f"CREATE {kind} {BASE} AS SELECT {select} FROM {source}")


def _select(mapping: QRadarMapping, data_cols: list[str]) -> list[str]:
    """The base table's columns computed from one Arrow batch (``FIXED_COLUMNS`` + ``data_cols``)."""
    present = {_orig(c).lower(): c for c in data_cols}
    t = "epoch_ms(TRY_CAST(NULLIF(TimeCreated, '') AS TIMESTAMPTZ))"
    return [
        f"{t} AS starttime", f"{t} AS devicetime", "logsourceid",
        f"CAST({mapping.default_devicetype} AS INTEGER) AS devicetype", "qid", "category",
        "CAST(1 AS INTEGER) AS eventcount", "username",
        *(f"{_first_non_empty(mapping.columns.get(c, ()), present)} AS {c}" for c in ("sourceip", "destinationip")),
        "Channel", "Provider_Name", "EventID", "Computer", "TimeCreated", "EventRecordID", "UserID",
        "iisdetect_source", "iisdetect_locator", *(quote(c) for c in data_cols),
    ]  # fmt: skip


def _lookup_tables(con, mapping, sources, qids) -> None:
    logsources = [
        (i, mapping.log_source_name.format(channel=ch, computer=c), mapping.default_devicetype)
        for (ch, c), i in sources.items()
    ]
    categories = [(k, n, h) for k, (n, h) in mapping.categories.items()]
    categories += [(k, n, k) for k, n in mapping.high_level_categories.items()]
    p = LOOKUP_PREFIX
    tables = (
        ("aql_logsources", f"{p}id INTEGER, {p}name VARCHAR, {p}devicetype INTEGER", logsources),
        ("aql_devicetypes", f"{p}id INTEGER, {p}name VARCHAR", list(mapping.devicetypes.items())),
        ("aql_qids", f"{p}id BIGINT, {p}name VARCHAR, {p}category INTEGER", list(qids.values())),
        ("aql_categories", f"{p}id INTEGER, {p}name VARCHAR, {p}high INTEGER", categories),
    )
    for name, columns, rows in tables:
        fill_table(con, name, columns, rows)


#: The name a lookup table's rows are registered under while they are inserted.
_ROWS_VIEW = "aql_lookup_rows"


def fill_table(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple]) -> None:
    """(Re)create a lookup table and insert ``rows`` as data (values never enter SQL text).

    The rows go in as one Arrow table, not ``executemany``: DuckDB runs an executemany statement
    once a row (the 420 log source types took ~100 ms that way, one insert takes ~1 ms). The
    table's declared column types cast the Arrow columns.
    """
    con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    if not rows:
        return
    data = pa.table({f"c{i}": pa.array(list(col)) for i, col in enumerate(zip(*rows, strict=True))})
    con.register(_ROWS_VIEW, data)
    try:
        con.execute(f"INSERT INTO {name} SELECT * FROM {_ROWS_VIEW}")
    finally:
        con.unregister(_ROWS_VIEW)


def base_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [BASE],
    ).fetchall()
    return [r[0] for r in rows]


def has_events(con: duckdb.DuckDBPyConnection) -> bool:
    n = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [BASE]).fetchall()
    return bool(n[0][0])


def create_view(
    con: duckdb.DuckDBPyConnection, mapping: QRadarMapping, sysmon_type_id: int | None, directions: bool = False
) -> list[str]:
    """(Re)create the temporary ``events`` view and empty ``flows``; returns the view's columns.

    ``directions``: a network hierarchy is loaded, so ``eventdirection`` is L2L/L2R/R2L/R2R (local =
    inside a network of the hierarchy, as QRadar decides it); otherwise it is NULL.
    """
    base = base_columns(con)
    fixed = {c.lower() for c in FIXED}
    data_cols = [c for c in base if c.lower() not in fixed]
    by_lower = {c.lower(): c for c in base if c.lower() not in fixed}
    by_lower.update({_orig(c).lower(): c for c in base if c.startswith("EventData.")})
    sel: list[str] = []
    names: list[str] = []

    def add(expr: str, name: str) -> None:
        sel.append(f"{expr} AS {quote(name)}")
        names.append(name)

    ibm = mapping.ibm_sources()
    ibm_lower = {p.lower(): {s.lower() for s in srcs} for p, srcs in ibm.items()}
    for c in base:
        low = c.lower()
        if low in {"iisdetect_source", "iisdetect_locator", "timecreated"}:
            continue
        if low not in fixed and low in ibm_lower and low not in ibm_lower[low]:
            add(quote(c), "EventData." + c)  # an IBM property of that name wins (e.g. Filename)
        else:
            add(quote(c), c)
    add("starttime", "endtime")
    add("CAST(category // 1000 * 1000 AS INTEGER)", "highlevelcategory")
    add('"EventID"', "Event ID")
    sysmon = ", ".join(sql_str(ch.lower()) for ch in mapping.sysmon_channels) or "NULL"
    type_id = mapping.default_devicetype if sysmon_type_id is None else int(sysmon_type_id)
    add(f'CASE WHEN lower("Channel") IN ({sysmon}) THEN {type_id} ELSE devicetype END', "logsourcetypeid")
    add(payload_sql(mapping.emulator_payload, [(c, _orig(c)) for c in data_cols], quote, sql_str), "payload")
    add("logsourceid", "devicegrouplist")  # LOGSOURCEGROUPNAME maps the log source to its groups
    taken = {n.lower() for n in names}
    for f in mapping.known_windows_fields():
        if f.lower() not in taken and f.lower() not in ibm_lower:
            add("CAST(NULL AS VARCHAR)", f)
            taken.add(f.lower())
    if directions and "eventdirection" not in taken:
        side = "CASE WHEN aql_networkname({0}) IS NULL THEN 'R' ELSE 'L' END"
        add(f"CASE WHEN sourceip IS NULL OR destinationip IS NULL THEN NULL ELSE "
            f"{side.format('sourceip')} || '2' || {side.format('destinationip')} END", "eventdirection")  # fmt: skip
        taken.add("eventdirection")
    for col, win in mapping.event_fields.items():
        if col.lower() in taken:
            continue
        src = by_lower.get(win.lower()) if win else None
        kind = EVENT_FIELD_TYPES.get(col.lower(), "VARCHAR")
        add(f"TRY_CAST({quote(src)} AS {kind})" if src else f"CAST(NULL AS {kind})", col)
        taken.add(col.lower())
    for prop, sources in ibm.items():
        if prop.lower() in taken:
            continue  # a Windows or QRadar column of that very name already exists (e.g. Signed)
        expr = _first_non_empty(sources, by_lower)
        add(expr, prop)
        taken.add(prop.lower())
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT {', '.join(sel)} FROM {BASE}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE flows AS SELECT {', '.join(sel)} FROM {BASE} LIMIT 0")
    return names
