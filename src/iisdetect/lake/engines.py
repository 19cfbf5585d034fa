"""Run a ruleset's lake query on DuckDB (embedded) or Spark, and hand the rows back as hunt hits.

The engine only selects rows; alerts, the suppressing tuning entry's name, correlation and every
output are built by hunt from the returned rows, so a lake hunt ends exactly like a native one.
"""

from __future__ import annotations

import atexit
import glob
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.lake.schema import lake_schema, row_event
from iisdetect.lake.sql import SqlRenderer, ruleset_query
from iisdetect.model.stats import RunStats

ENGINES = ("native", "duckdb", "spark")
_POSITION = re.compile(r"(\d+)")


def parquet_files(paths: Sequence[str]) -> list[str]:
    """Parquet files named directly or found under folders (a converted lake), sorted."""
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            files.extend(sorted(glob.glob(os.path.join(p, "**", "*.parquet"), recursive=True)))
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise UsageError(f"input not found: {p}")
    if not files:
        raise UsageError("no Parquet files in the inputs (write them with `iisdetect convert`)")
    return files


class _DuckDB:
    def __init__(self, files: list[str]) -> None:
        import duckdb

        self.con = duckdb.connect()
        # Only the lake's files are readable; then no other file or network access (defence in depth:
        # the queries are ours, but the paths are user input). SET takes no parameters: literals here.
        paths = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        self.con.execute(f"SET allowed_paths = {paths}")
        self.con.execute("SET enable_external_access = false")
        self.con.execute(
            f"CREATE VIEW events AS SELECT * FROM read_parquet({paths}, union_by_name = true, hive_partitioning = 0)"
        )

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchone()[0]

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        while batch := cur.fetchmany(10_000):
            for row in batch:
                yield dict(zip(names, row, strict=True))

    def close(self) -> None:
        self.con.close()


class _Spark:
    def __init__(self, files: list[str], master: str | None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UsageError("--engine spark needs PySpark: pip install 'iisdetect[spark]' (and Java 17)") from None
        builder = SparkSession.builder
        # under spark-submit (the JVM started this Python), its --master decides
        if master or not (os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_ENV_LOADED")):
            builder = builder.master(master or "local[*]")
        builder = (
            builder.appName("iisdetect")
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC")
        )  # fmt: skip
        self.spark = builder.getOrCreate()  # reuses this process's session: start-up is paid once
        self.spark.sparkContext.setLogLevel("OFF")
        atexit.register(self.spark.stop)
        self.spark.read.option("mergeSchema", "true").parquet(*files).createOrReplaceTempView("events")

    def scalar(self, sql: str) -> Any:
        return self.spark.sql(sql).collect()[0][0]

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        for row in self.spark.sql(sql).toLocalIterator():
            yield row.asDict()

    def close(self) -> None:
        self.spark.catalog.dropTempView("events")


def _read_order(event: Any) -> tuple[str, int, str]:
    """Hits in the order a native hunt meets them: by file, then by position in the file."""
    m = _POSITION.search(event.locator)
    return (event.source, int(m.group(1)) if m else -1, event.locator)


def open_engine(engine: str, files: list[str], spark_master: str | None = None) -> _DuckDB | _Spark:
    if engine == "duckdb":
        return _DuckDB(files)
    if engine == "spark":
        return _Spark(files, spark_master)
    raise UsageError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


def lake_hunt(
    engine: str,
    paths: Sequence[str],
    rules: list[CompiledRule],
    tuned: list[CompiledRule] | None,
    tuning: Any,
    since: str,
    until: str,
    hits: Any,
    stats: RunStats,
    spark_master: str | None = None,
) -> str:
    """Append hunt hits for every matching row; returns the newest event time in the table."""
    files = parquet_files(paths)
    schema = lake_schema()
    time_col = "TimeCreated"
    eng = open_engine(engine, files, spark_master)
    try:
        total = int(eng.scalar("SELECT count(*) FROM events") or 0)
        newest = eng.scalar(f"SELECT max({time_col}) FROM events") or ""
        inside = total
        if since or until:
            lit = SqlRenderer("spark" if engine == "spark" else "duckdb").string
            conds = [f"{time_col} >= {lit(since)}" if since else "", f"{time_col} <= {lit(until)}" if until else ""]
            inside = int(eng.scalar("SELECT count(*) FROM events WHERE " + " AND ".join(c for c in conds if c)) or 0)
        stats.files += len(files)
        stats.formats["parquet"] += len(files)
        stats.records_read += total
        stats.filtered_by_time += total - inside
        by_id = {r.id: r for r in rules}
        query = ruleset_query(rules, tuned, "spark" if engine == "spark" else "duckdb", since=since, until=until)
        rows = [(row_event(row, schema), row) for row in eng.rows(query)]  # hits only: bounded by alerts
        rows.sort(key=lambda er: _read_order(er[0]))
        for event, row in rows:
            matched = [rid for rid in row["matched"] if rid in by_id]
            kept_ids = set(row["kept"] or ())
            kept = [rid for rid in matched if rid in kept_ids]
            gone = [
                (rid, (tuning.suppressing_entry(by_id[rid], event) if tuning else None) or "(tuning)")
                for rid in matched
                if rid not in kept_ids
            ]
            hits.append((event, kept, gone))
    finally:
        eng.close()
    return str(newest)
