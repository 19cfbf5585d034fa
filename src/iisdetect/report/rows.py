"""Render AQL result rows as table (rich), JSON, NDJSON or CSV, with hunt's safety rules.

Values are attacker-controlled log text: the table escapes control characters (no markup), JSON
goes through orjson, and CSV cells a spreadsheet would run as formulas get a leading quote.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from iisdetect.report.writer import csv_cell, safe

FORMATS = ("table", "json", "ndjson", "csv")


def render(fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], out: IO[str], meta: dict[str, Any]) -> None:
    if fmt == "table":
        console = Console(file=out, width=None if out.isatty() else 200, highlight=False, no_color=not out.isatty())
        table = Table(header_style="bold", pad_edge=False)
        for c in columns:
            table.add_column(Text(safe(c)), overflow="fold")
        for row in rows:
            table.add_row(*(Text(safe(v)) for v in row))
        console.print(table)
    elif fmt == "json":
        doc = {**meta, "columns": list(columns), "rows": [dict(zip(columns, r, strict=True)) for r in rows]}
        out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
    elif fmt == "ndjson":
        for r in rows:
            out.write(orjson.dumps(dict(zip(columns, r, strict=True)), default=str).decode() + "\n")
    else:
        w = csv.writer(out)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if v is None else csv_cell(v) for v in r])
