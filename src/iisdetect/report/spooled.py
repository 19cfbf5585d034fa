"""Write a spooled hunt (alerts on disk, hunting/stream_incidents.py) without holding its alerts.

Every format writes the same bytes as its in-memory renderer in :mod:`.hunt_output` (tests/report/
test_spooled.py compares them): the alerts are loaded back one at a time, in output order, written,
and dropped. The JSON document is one object whose ``alerts`` array comes before ``incidents``: the
alerts go straight to the output and the incident objects, produced alongside, are spooled to an
anonymous temporary file and copied in after them (orjson's two-space indentation is reproduced
exactly, so the document is byte-identical to ``orjson.dumps(doc, option=OPT_INDENT_2)``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from rich.console import Console

from iisdetect.hunting.alerts import Alert, alert_record
from iisdetect.report.hunt_output import (
    FORMAT_NAME,
    FORMAT_VERSION,
    CsvWriter,
    incident_dict,
    ndjson_line,
    ndjson_summary_line,
)

_INDENT = orjson.OPT_INDENT_2


def _indented(obj: Any, pad: int) -> str:
    """``obj`` as orjson indents it, every line shifted right by ``pad`` spaces (no raw newline can
    occur inside a JSON string, so only structural lines move)."""
    sp = " " * pad
    return sp + orjson.dumps(obj, option=_INDENT).decode().replace("\n", "\n" + sp)


def _array(out: IO[str], items: Iterable[Any], pad: int) -> None:
    """A JSON array member at depth ``pad``: ``[]`` when empty, else one indented item per line."""
    first = True
    for item in items:
        out.write("[\n" if first else ",\n")
        first = False
        out.write(_indented(item, pad + 2))
    out.write("[]" if first else "\n" + " " * pad + "]")


def write_table(spooled: Any, console: Console, *, no_records: bool = False) -> None:
    from iisdetect.report import hunt_output

    hunt_output.write_table(spooled.groups(by_time=True), set(spooled.type_counts()), console, no_records=no_records)


def write_json(spooled: Any, summary: dict[str, Any], out: IO[str], suppressed: bool) -> None:
    """``--format json`` for a spooled run (the layout of ``hunt_output.json_document``)."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="iisdetect-incidents-") as incidents:
        out.write("{\n")
        out.write(f'  "format": {orjson.dumps(FORMAT_NAME).decode()},\n')
        out.write(f'  "format_version": {orjson.dumps(FORMAT_VERSION).decode()},\n')
        out.write('  "alerts": ')
        n_inc = 0

        def records() -> Iterator[dict[str, Any]]:
            nonlocal n_inc
            for inc, _, alerts in spooled.groups():
                for a in alerts:
                    yield alert_record(a)
                if inc is not None:
                    incidents.write(",\n" if n_inc else "")
                    incidents.write(_indented(incident_dict(inc), 4))
                    n_inc += 1

        _array(out, records(), 2)
        out.write(',\n  "incidents": ')
        if n_inc:
            out.write("[\n")
            incidents.seek(0)
            shutil.copyfileobj(incidents, out)
            out.write("\n  ]")
        else:
            out.write("[]")
    out.write(',\n  "suppressed": ')
    rows = ({**alert_record(a), "suppressed_by": entry} for a, entry in spooled.suppressed()) if suppressed else ()
    _array(out, rows, 2)
    out.write(',\n  "summary": ')
    out.write(_indented(summary, 2)[2:])
    out.write("\n}\n")


def write_ndjson(spooled: Any, out: IO[str], suppressed: bool, summary: dict[str, Any] | None) -> None:
    for inc, _, alerts in spooled.groups():
        if inc is not None:
            out.write(orjson.dumps({"type": "incident", **incident_dict(inc)}).decode() + "\n")
        for a in alerts:
            out.write(ndjson_line(a))
    if suppressed:
        for a, entry in spooled.suppressed():
            out.write(ndjson_line(a, entry))
    if summary is not None:
        out.write(ndjson_summary_line(summary))


def write_csv(spooled: Any, out: IO[str], suppressed: bool) -> None:
    writer = CsvWriter(out)
    for inc, _, alerts in spooled.groups():
        for a in alerts:
            writer.row(a, inc.level if inc is not None else "")
    if suppressed:
        for a, entry in spooled.suppressed():
            writer.row(a, suppressed_by=entry)


def write_timesketch(spooled: Any, out: IO[str]) -> None:
    from iisdetect.report.timesketch import timesketch_line

    for inc, _, alerts in spooled.groups():
        for a in alerts:
            out.write(orjson.dumps(timesketch_line(a, inc.level if inc is not None else "")).decode() + "\n")


def write_navigator(spooled: Any, rules: list, out: IO[str]) -> None:
    from iisdetect.report.navigator import layer_from_counts

    out.write(orjson.dumps(layer_from_counts(spooled.rule_counts(), rules), option=_INDENT).decode() + "\n")


def suppressed_alerts(spooled: Any) -> list[Alert]:
    """The suppressed alerts, for the table's second section (loaded: tuning suppresses few)."""
    return [a for a, _ in spooled.suppressed()]
