"""Render hunt results: table (rich), JSON, NDJSON, CSV; timesketch/navigator live beside this module.

Log fields are attacker-controlled: in the terminal they go through ``rich.text.Text`` (never
markup) with control characters escaped (:func:`~iisdetect.report.writer.safe`), so a crafted
CommandLine cannot restyle or rewrite the screen; JSON is encoded by orjson; CSV cells that a
spreadsheet would run as a formula are prefixed with a quote. Files never truncate a value; the
table shortens long evidence to fit and says by how much (``[+N chars]``).

The JSON document always has the same top-level keys (``format``, ``format_version``, ``alerts``,
``incidents``, ``suppressed``, ``summary``) whatever happened; docs/schemas/ holds the JSON Schemas.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

import orjson
from rich.console import Console
from rich.console import Group as RichGroup
from rich.padding import Padding
from rich.text import Text

from iisdetect.guides import guide_for
from iisdetect.hunting.alerts import EVIDENCE_NAMES, SEED_COLUMNS, Alert, alert_record
from iisdetect.hunting.incidents import is_duplicate
from iisdetect.report.writer import csv_cell, safe

__all__ = ["FORMATS", "safe", "csv_cell", "render_table", "render_json", "render_ndjson", "render_csv"]

FORMATS = ("table", "json", "ndjson", "csv", "html", "timesketch", "navigator")
FORMAT_NAME = "iisdetect-hunt"
FORMAT_VERSION = 1
LEVEL_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "informational": "dim",
}
#: Lines of evidence the table shows per alert before it cuts (and says so).
TABLE_EVIDENCE_LINES = 3


def incident_dict(inc: Any) -> dict[str, Any]:
    return {
        "incident": inc.id,
        "host": inc.host,
        "level": inc.level,
        "first": inc.first,
        "last": inc.last,
        "module": inc.module,
        "summary": inc.summary,
        "alert_count": inc.alert_count,
        "duplicates": inc.duplicates,
        "detection_types": list(inc.detection_types),
    }


def groups(alerts: list[Alert], incidents: list[Any]) -> list[tuple[Any | None, list[Alert]]]:
    """Incidents with their alerts; alerts without an incident (correlation off) as one group."""
    if incidents:
        return [(inc, list(inc.alerts)) for inc in incidents]
    return [(None, alerts)] if alerts else []


def evidence(alert: Alert) -> str:
    """The one thing an analyst looks at first: what was loaded, written, set, configured or run."""
    c = alert.columns()
    d = alert.event.data
    if c["loaded_dll"] or c["file_path"]:
        obj = c["loaded_dll"] or c["file_path"]
        if d.get("SignatureStatus") or d.get("Signed"):
            sig = " ".join(x for x in (d.get("Signature"), d.get("SignatureStatus")) if x)
            obj += f"  (signed={d.get('Signed') or '?'}{' ' + sig if sig else ''})"
    elif c["registry_key"]:
        obj = f"{c['registry_key']} = {c['registry_value'] or ''}"
    elif d.get("Configuration"):
        cfg = d["Configuration"].replace("/system.webServer/", "")
        obj = f"{cfg} = {d.get('NewValue', '')}" if d.get("NewValue") else f"{cfg} (was {d.get('OldValue', '')})"
    else:
        obj = c["CommandLine"] or d.get("ScriptBlockText") or d.get("ModuleDll") or ""
        return " ".join(obj.split()) or (c["initiating_process"] or "")
    proc = (c["initiating_process"] or "").rsplit("\\", 1)[-1]
    return f"{proc}: {obj}" if proc else obj


def fit(text: str, width: int, lines: int = TABLE_EVIDENCE_LINES) -> str:
    """At most ``lines`` lines of ``width``; a cut is marked with how much was left out."""
    room = max(20, width) * lines
    if len(text) <= room:
        return text
    keep = room - 30
    return f"{text[:keep]} … [+{len(text) - keep} chars]"


def _short_type(detection_type: str) -> str:
    return detection_type[4:] if detection_type.startswith("IIS_") else detection_type


def render_table(alerts: list[Alert], incidents: list[Any], console: Console, *, no_records: bool = False) -> None:
    """Incident header lines, then two lines per alert (what/when, then the evidence indented).

    Two lines instead of a wide table keep a narrow terminal readable: the evidence (a path or a
    command line) gets the whole width. Without incidents (``--no-correlate``) every alert line names
    its host and alerts come in time order.
    """
    listed = [
        (inc, len(members), members if inc is not None else sorted(members, key=_time_host))
        for inc, members in groups(alerts, incidents)
    ]
    write_table(listed, {a.detection_type for a in alerts}, console, no_records=no_records)


def _time_host(a: Alert) -> tuple[str, str]:
    return a.event.time_created, a.event.computer


#: (incident or None, number of alerts, the alerts in output order): what every writer iterates
Group = tuple[Any | None, int, Iterable[Alert]]


#: Alerts whose lines are handed to rich in one ``print``: each call costs a console setup (options,
#: buffer, size) that dwarfed the rendering (20k alerts: 73k calls, 18 of the table's 23 s).
PRINT_BATCH = 256


def write_table(grouped: Iterable[Group], types: set[str], console: Console, *, no_records: bool = False) -> None:
    """:func:`render_table` over groups that may stream their alerts (report/spooled.py).

    Lines are collected as renderables with their own wrap settings and printed a batch at a time
    (:data:`PRINT_BATCH` alerts), so memory stays bounded and the output is what one ``print`` per
    line wrote.
    """
    if not types:
        console.print("No records read: nothing was searched." if no_records else "No alerts.")
        return
    evidence_width = max(20, console.width - 6)
    batch: list[Any] = []

    def flush() -> None:
        if batch:
            console.print(RichGroup(*batch))
            batch.clear()

    for inc, count, members in grouped:
        if inc is not None:
            head = Text(f"{inc.id}  ", style="bold", no_wrap=True, overflow="ellipsis")  # the host is attacker text
            head.append(f"{inc.level.upper()}", style=LEVEL_STYLE.get(inc.level, "") + " bold")
            head.append(f"  {safe(inc.host)}  {safe(inc.first)[:19].replace('T', ' ')} .. ")
            head.append(f"{safe(inc.last)[11:19]}  {count} alert(s)")
            batch.append(head)
            batch.append(folded(safe(inc.summary), 2, console, style="dim"))
        for a in members:
            if is_duplicate(a):  # counted in the incident header and on its representative
                continue
            line = Text(f"  {a.columns()['event_time']}  ", overflow="fold")
            line.append(f"{a.level:<8}", style=LEVEL_STYLE.get(a.level, ""))
            if inc is None:
                line.append(f" {safe(a.event.computer)}")
            line.append(f" EID {a.event.event_id:<5} ")
            line.append(safe(_short_type(a.detection_type)), style="bold")
            rid = a.event.record_id
            line.append(f"  #{rid}" if rid is not None else "", style="dim")
            more = [n for n in a.notes if n.startswith("+")]
            if more:
                line.append(f"  [{safe(more[0])}]", style="dim")
            batch.append(line)
            batch.append(folded(safe(fit(evidence(a), evidence_width)), 6, console))
            if len(batch) >= 2 * PRINT_BATCH:
                flush()
        batch.append(Text(""))
        flush()
    print_guide_types(types, console)


def print_guides(alerts: list[Alert], console: Console) -> None:
    """One line per alert type: the guide (investigation steps, playbook, tuning) to follow for it."""
    print_guide_types({a.detection_type for a in alerts}, console)


def print_guide_types(detection_types: set[str], console: Console) -> None:
    types = sorted(detection_types)
    console.print(Text("Guides (docs/playbook.md; hunt --format html shows them with each alert):", style="bold"))
    for t in types:
        g = guide_for(t)
        console.print(Text(f"  {safe(_short_type(t))}: {g.id if g else 'no guide'}"))


FOLD_MARK = ".. "


def folded(text: str, indent: int, console: Console, style: str = "") -> Padding:
    """Long attacker text cut into lines of the console width; every continuation starts with ``..``.

    Rich word-wrapping would let a field such as ``x\\x0a  2024-05-03 02:41:41  low  EID 11 ...`` (with
    spaces placed to land at a line start) print as a line laid out like a real alert; with a fixed cut
    and a marker, no line of field text can start where an alert line starts.
    """
    width = max(20, console.width - indent - len(FOLD_MARK))
    lines = [text[:width]] + [FOLD_MARK + text[i : i + width] for i in range(width, len(text), width)]
    body = Text("\n".join(lines), style=style, no_wrap=True, overflow="crop")
    return Padding(body, (0, 0, 0, indent))


def json_document(
    alerts: list[Alert], incidents: list[Any], summary: dict[str, Any], suppressed: Iterable = ()
) -> dict[str, Any]:
    """The ``--format json`` document; every key is always present (empty lists when nothing fired)."""
    ordered = [a for _, members in groups(alerts, incidents) for a in members]
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "alerts": [alert_record(a) for a in ordered],
        "incidents": [incident_dict(i) for i in incidents],
        "suppressed": [{**alert_record(a), "suppressed_by": entry} for a, entry in suppressed],
        "summary": summary,
    }


def render_json(
    alerts: list[Alert],
    incidents: list[Any],
    summary: dict[str, Any],
    out: IO[str],
    suppressed: Iterable = (),
) -> None:
    doc = json_document(alerts, incidents, summary, suppressed)
    out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def ndjson_line(alert: Alert, suppressed_by: str | None = None) -> str:
    """One alert as an NDJSON line (``type`` alert, or suppressed with the tuning entry's name)."""
    if suppressed_by is None:
        return orjson.dumps({"type": "alert", **alert_record(alert)}).decode() + "\n"
    return orjson.dumps({"type": "suppressed", "suppressed_by": suppressed_by, **alert_record(alert)}).decode() + "\n"


def ndjson_summary_line(summary: dict[str, Any]) -> str:
    """The last NDJSON line: the run accounting, so a script reading the stream knows it is complete."""
    return orjson.dumps({"type": "summary", **summary}).decode() + "\n"


def render_ndjson(
    alerts: list[Alert], incidents: list[Any], out: IO[str], suppressed: Iterable = (), summary: dict | None = None
) -> None:
    for inc, members in groups(alerts, incidents):
        if inc is not None:
            out.write(orjson.dumps({"type": "incident", **incident_dict(inc)}).decode() + "\n")
        for a in members:
            out.write(ndjson_line(a))
    for a, entry in suppressed:
        out.write(ndjson_line(a, entry))
    if summary is not None:
        out.write(ndjson_summary_line(summary))


CSV_COLUMNS: tuple[str, ...] = (
    "incident",
    "incident_level",
    *SEED_COLUMNS,
    "time",
    "rule_id",
    "rule_title",
    "level",
    "rule_level",
    "status",
    "tags",
    "attack",
    "Computer",
    "Channel",
    "Provider",
    "EventRecordID",
    "position",
    "source_file",
    "member",
    "source",
    "record",
    "notes",
    "suppressed_by",
    "evidence.kind",
    *(f"evidence.{n}" for n in EVIDENCE_NAMES),
    "event_data",
)


def csv_row(alert: Alert, incident_level: str = "", suppressed_by: str | None = None) -> dict[str, Any]:
    """One flat CSV row: lists joined with ``;``, evidence spread over columns, EventData as JSON."""
    rec = alert_record(alert)
    ev = rec.pop("evidence")
    event = rec.pop("event")
    row: dict[str, Any] = {k: v for k, v in rec.items() if k in CSV_COLUMNS}
    row["tags"] = ";".join(rec["tags"])
    row["attack"] = ";".join(rec["attack"])
    row["notes"] = "; ".join(rec["notes"])
    row["incident_level"] = incident_level
    row["suppressed_by"] = suppressed_by or ""
    for k, v in ev.items():
        row[f"evidence.{k}"] = v
    row["event_data"] = orjson.dumps(event["EventData"]).decode()
    return row


class CsvWriter:
    """CSV rows one alert at a time (header first), so streamed runs never hold their alerts."""

    def __init__(self, out: IO[str]) -> None:
        self.writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        self.writer.writeheader()

    def row(self, alert: Alert, incident_level: str = "", suppressed_by: str | None = None) -> None:
        record = csv_row(alert, incident_level, suppressed_by)
        self.writer.writerow({k: ("" if v is None else csv_cell(v)) for k, v in record.items()})


def render_csv(alerts: list[Alert], incidents: list[Any], out: IO[str], suppressed: Iterable = ()) -> None:
    writer = CsvWriter(out)
    for inc, members in groups(alerts, incidents):
        for a in members:
            writer.row(a, inc.level if inc is not None else "")
    for a, entry in suppressed:
        writer.row(a, suppressed_by=entry)
