"""The data lake: canonical events as Parquet, and the rules as SQL for DuckDB and Spark.

``convert`` writes the canonical table (``mapping/lake.yaml``), ``sql`` renders a ruleset from the
IR into one query over it, and ``engines`` runs that query on DuckDB (embedded) or Spark and turns
the rows back into hits, so ``hunt --engine duckdb|spark`` ends in the same alerts, tuning accounting,
correlation and outputs as a native hunt.
"""
