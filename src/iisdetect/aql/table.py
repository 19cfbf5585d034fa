"""Events -> a DuckDB ``events`` table shaped like QRadar's, plus its lookup tables.

Storage is one base table, ``aql_events_base``: QRadar's columns (``starttime``/``devicetime`` in
epoch milliseconds, ``logsourceid``, ``devicetype``, ``qid``, ``category``, ``username``,
``sourceip``, ``destinationip``, ``eventcount``), the System fields (``EventID`` as a string, as
QRadar's property is) and every EventData field under its Windows name. ``events`` is a view laid
over it at query time from :mod:`iisdetect.mapping.qradar`, so IBM property names ("Process Path",
"Command", ...), ``logsourcetypeid`` and ``payload`` follow the current mapping and switches
without reloading. ``flows`` is an empty table.

Loading streams the events once into a temporary NDJSON file and reads it with DuckDB's
``read_json`` and explicit columns (the fastest path measured in feasibility.md 3.4); event values
never enter SQL text.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import orjson

from iisdetect.mapping.fields import event_name, user_name
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
VIEW_ONLY = ("logsourcetypeid", "payload", "endtime", "highlevelcategory", "Event ID")
_RESERVED = {n.lower() for n in FIXED + VIEW_ONLY}
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


class _Renamer:
    """EventData key -> base column: case-insensitive unique, clear of QRadar's own columns."""

    def __init__(self) -> None:
        self.by_lower: dict[str, str] = {}
        self.cache: dict[str, str] = {}
        self.order: list[str] = []

    def __call__(self, key: str) -> str:
        col = self.cache.get(key)
        if col is None:
            low = key.lower()
            if low in _RESERVED or low.startswith("eventdata."):
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


#: Events per NDJSON batch: DuckDB parses one batch on a worker thread while Python writes the next.
BATCH = 250_000


def load_events(
    con: duckdb.DuckDBPyConnection,
    events: Iterable[Event],
    mapping: QRadarMapping,
    tmpdir: str | None = None,
    batch: int = BATCH,
) -> LoadResult:
    """(Re)create the base and lookup tables from ``events``. Returns counts and data columns."""
    rename = _Renamer()
    safe: set[str] = set()  # EventData names stored under their own name
    sources: dict[tuple[str, str], int] = {}
    qids: dict[tuple[str, int], tuple[int, str, int]] = {}
    synthetic = mapping.synthetic_qid_base
    result = LoadResult()
    inserter = _Inserter(con, mapping)
    dumps = orjson.dumps
    out = None
    try:
        in_batch = 0
        for ev in events:
            if out is None:
                fd, path = tempfile.mkstemp(prefix="iisdetect-aql-", suffix=".ndjson", dir=tmpdir)
                out = os.fdopen(fd, "wb", buffering=1 << 20)
            skey = (ev.channel, ev.computer)
            ls = sources.get(skey)
            if ls is None:
                ls = sources[skey] = mapping.first_log_source_id + len(sources)
            qkey = (ev.provider.lower(), ev.event_id)
            q = qids.get(qkey)
            if q is None:
                known = mapping.qids.get(qkey)
                num, cat = known if known else (synthetic + len(qids), mapping.default_category)
                q = qids[qkey] = (num, event_name(ev), cat)
            data = ev.data
            if not safe.issuperset(data):
                for k in data:
                    if rename(k) == k:
                        safe.add(k)
                if not safe.issuperset(data):
                    data = {rename(k): v for k, v in data.items()}
            row = {
                **data,
                "Channel": ev.channel, "Provider_Name": ev.provider, "EventID": str(ev.event_id),
                "Computer": ev.computer, "TimeCreated": ev.time_created, "EventRecordID": ev.record_id,
                "UserID": ev.user_sid, "iisdetect_source": ev.source, "iisdetect_locator": ev.locator,
                "logsourceid": ls, "qid": q[0], "category": q[2], "username": user_name(ev),
            }  # fmt: skip
            out.write(dumps(row))
            out.write(b"\n")
            result.events += 1
            in_batch += 1
            if in_batch >= batch:
                out.close()
                out = None
                inserter.submit(path, rename.order)
                in_batch = 0
        if out is not None:
            out.close()
            out = None
            inserter.submit(path, rename.order)
        inserter.wait()
        if not inserter.created:
            inserter.insert(None, [])
    finally:
        if out is not None:
            out.close()
            os.unlink(path)
        inserter.wait(raise_error=False)
    result.columns = list(rename.order)
    _lookup_tables(con, mapping, sources, qids)
    return result


def _orig(col: str) -> str:
    """The Windows name of a stored column (``EventData.Category`` -> ``Category``)."""
    return col[len("EventData.") :] if col.startswith("EventData.") else col


def _first_non_empty(fields: tuple[str, ...], present: dict[str, str]) -> str:
    """SQL for the first non-empty of ``fields`` (Windows names; ``present``: lower name -> column)."""
    cols = [f"NULLIF({quote(present[f.lower()])}, '')" for f in fields if f.lower() in present]
    if not cols:
        return "CAST(NULL AS VARCHAR)"
    return cols[0] if len(cols) == 1 else f"COALESCE({', '.join(cols)})"


class _Inserter:
    """Inserts finished NDJSON batches on one worker thread (DuckDB releases the GIL meanwhile)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, mapping: QRadarMapping) -> None:
        self.con = con
        self.mapping = mapping
        self.created = False
        self.cols: list[str] = []
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def submit(self, path: str, data_cols: list[str]) -> None:
        self.wait()
        self.thread = threading.Thread(target=self._run, args=(path, list(data_cols)), daemon=True)
        self.thread.start()

    def wait(self, raise_error: bool = True) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None and raise_error:
            err, self.error = self.error, None
            raise err

    def _run(self, path: str, data_cols: list[str]) -> None:
        try:
            self.insert(path, data_cols)
        except BaseException as exc:  # re-raised on the caller's thread by wait()
            self.error = exc
        finally:
            os.unlink(path)

    def insert(self, path: str | None, data_cols: list[str]) -> None:
        json_cols: dict[str, str] = {c: "VARCHAR" for c in data_cols}
        for c in ("Channel", "Provider_Name", "EventID", "Computer", "TimeCreated", "UserID"):
            json_cols[c] = "VARCHAR"
        json_cols.update({"iisdetect_source": "VARCHAR", "iisdetect_locator": "VARCHAR", "username": "VARCHAR"})
        json_cols.update(_INT_COLUMNS)
        present = {_orig(c).lower(): c for c in data_cols}
        t = "epoch_ms(TRY_CAST(NULLIF(TimeCreated, '') AS TIMESTAMPTZ))"
        select = [
            f"{t} AS starttime", f"{t} AS devicetime", "logsourceid",
            f"CAST({self.mapping.default_devicetype} AS INTEGER) AS devicetype", "qid", "category",
            "CAST(1 AS INTEGER) AS eventcount", "username",
            *(f"{_first_non_empty(self.mapping.columns.get(c, ()), present)} AS {c}"
              for c in ("sourceip", "destinationip")),
            "Channel", "Provider_Name", "EventID", "Computer", "TimeCreated", "EventRecordID", "UserID",
            "iisdetect_source", "iisdetect_locator", *(quote(c) for c in data_cols),
        ]  # fmt: skip
        if path is None:  # no events at all: an empty table of the right shape
            cols = ", ".join(f"CAST(NULL AS {v}) AS {quote(k)}" for k, v in json_cols.items())
            source = f"(SELECT {cols} LIMIT 0)"
        else:
            spec = "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in json_cols.items()) + "}"
            # The path is ours (mkstemp); table functions take no parameters for file names.
            source = (
                f"read_json({sql_str(path)}, format='newline_delimited', columns={spec}, maximum_object_size=134217728)"
            )
        if not self.created:
            self.con.execute(f"DROP VIEW IF EXISTS events; DROP TABLE IF EXISTS {BASE}")
            self.con.execute(f"CREATE TABLE {BASE} AS SELECT {', '.join(select)} FROM {source}")
            self.created = True
            self.cols = list(data_cols)
            return
        for c in data_cols:
            if c not in self.cols:
                self.con.execute(f"ALTER TABLE {BASE} ADD COLUMN {quote(c)} VARCHAR")
                self.cols.append(c)
        self.con.execute(f"INSERT INTO {BASE} BY NAME SELECT {', '.join(select)} FROM {source}")
        self.con.execute("CHECKPOINT")  # bounds the WAL (else it is replayed in memory at close)


def _lookup_tables(con, mapping, sources, qids) -> None:
    logsources = [
        (i, mapping.log_source_name.format(channel=ch, computer=c), mapping.default_devicetype)
        for (ch, c), i in sources.items()
    ]
    categories = [(k, n, h) for k, (n, h) in mapping.categories.items()]
    categories += [(k, n, k) for k, n in mapping.high_level_categories.items()]
    tables = (
        ("aql_logsources", "id INTEGER, name VARCHAR, devicetype INTEGER", logsources),
        ("aql_devicetypes", "id INTEGER, name VARCHAR", list(mapping.devicetypes.items())),
        ("aql_qids", "qid BIGINT, name VARCHAR, category INTEGER", list(qids.values())),
        ("aql_categories", "id INTEGER, name VARCHAR, high INTEGER", categories),
    )
    for name, columns, rows in tables:
        con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)


def base_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [BASE],
    ).fetchall()
    return [r[0] for r in rows]


def has_events(con: duckdb.DuckDBPyConnection) -> bool:
    n = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [BASE]).fetchall()
    return bool(n[0][0])


def create_view(con: duckdb.DuckDBPyConnection, mapping: QRadarMapping, sysmon_type_id: int | None) -> list[str]:
    """(Re)create the temporary ``events`` view and empty ``flows``; returns the view's columns."""
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
    tab = "chr(9)"
    parts = [
        "'<13>' || strftime(make_timestamp(starttime * 1000), '%b %d %H:%M:%S') || ' ' || \"Computer\""
        " || ' AgentDevice=WindowsLog'",
        "'AgentLogFile=' || \"Channel\"",
        "'Source=' || \"Provider_Name\"", "'Computer=' || \"Computer\"", "'EventID=' || \"EventID\"",
        "'RecordNumber=' || CAST(\"EventRecordID\" AS VARCHAR)",
        *(f"CASE WHEN {quote(c)} IS NOT NULL THEN {sql_str(c + '=')} || {quote(c)} END" for c in data_cols),
    ]  # fmt: skip
    add(f"concat_ws({tab}, {', '.join(parts)}) || {tab}", "payload")
    taken = {n.lower() for n in names}
    for f in mapping.known_windows_fields():
        if f.lower() not in taken and f.lower() not in ibm_lower:
            add("CAST(NULL AS VARCHAR)", f)
            taken.add(f.lower())
    for prop, sources in ibm.items():
        if prop.lower() in taken:
            continue  # a Windows or QRadar column of that very name already exists (e.g. Signed)
        expr = _first_non_empty(sources, by_lower)
        add(expr, prop)
        taken.add(prop.lower())
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT {', '.join(sel)} FROM {BASE}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE flows AS SELECT {', '.join(sel)} FROM {BASE} LIMIT 0")
    return names
