"""Render hunt results as table (rich), JSON, NDJSON or CSV.

Log fields are attacker-controlled: in the terminal they go through ``rich.text.Text`` (never
markup) with control characters escaped, so a crafted CommandLine cannot restyle or rewrite the
screen; JSON is encoded by orjson; CSV cells that a spreadsheet would run as a formula are
prefixed with a quote (OWASP CSV-injection advice).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO, Any

import orjson
from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from iisdetect.hunting.alerts import ALERT_COLUMNS, Alert
from iisdetect.hunting.incidents import is_duplicate

FORMATS = ("table", "json", "ndjson", "csv")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LEVEL_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "informational": "dim",
}


def safe(value: Any) -> str:
    """Printable form of a hostile string: control characters (ANSI escapes included) escaped."""
    if value is None:
        return ""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def incident_dict(inc: Any) -> dict[str, Any]:
    return {
        "incident": inc.id,
        "host": inc.host,
        "level": inc.level,
        "first": inc.first,
        "last": inc.last,
        "module": inc.module,
        "summary": inc.summary,
        "alert_count": len(inc.alerts),
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
    elif c["registry_key"]:
        obj = f"{c['registry_key']} = {c['registry_value'] or ''}"
    elif d.get("Configuration"):
        cfg = d["Configuration"].replace("/system.webServer/", "")
        obj = f"{cfg} = {d.get('NewValue', '')}" if d.get("NewValue") else f"{cfg} (was {d.get('OldValue', '')})"
    else:
        obj = c["CommandLine"] or d.get("ScriptBlockText") or d.get("ModuleDll") or ""
        return " ".join(obj.split())[:400] or (c["initiating_process"] or "")
    proc = (c["initiating_process"] or "").rsplit("\\", 1)[-1]
    return f"{proc}: {obj}" if proc else obj


def _short_type(detection_type: str) -> str:
    return detection_type[4:] if detection_type.startswith("IIS_") else detection_type


def render_table(alerts: list[Alert], incidents: list[Any], console: Console) -> None:
    """Incident header lines, then two lines per alert (what/when, then the evidence indented).

    Two lines instead of a wide table keep a 100-column terminal readable: the evidence (a path or a
    command line) gets the whole width instead of a folded 30-character column.
    """
    if not alerts:
        console.print("No alerts.")
        return
    for inc, members in groups(alerts, incidents):
        if inc is not None:
            head = Text(f"{inc.id}  ", style="bold")
            head.append(f"{inc.level.upper()}", style=LEVEL_STYLE.get(inc.level, "") + " bold")
            head.append(f"  {safe(inc.host)}  {safe(inc.first)[:19].replace('T', ' ')} .. ")
            head.append(f"{safe(inc.last)[11:19]}  {len(members)} alert(s)")
            console.print(head)
            console.print(Padding(Text(safe(inc.summary), style="dim"), (0, 0, 0, 2)))
        for a in members:
            if is_duplicate(a):  # counted in the incident header and on its representative
                continue
            line = Text(f"  {alert_time(a)}  ")
            line.append(f"{a.level:<8}", style=LEVEL_STYLE.get(a.level, ""))
            line.append(f" EID {a.event.event_id:<5} ")
            line.append(safe(_short_type(a.detection_type)), style="bold")
            more = [n for n in a.notes if n.startswith("+")]
            if more:
                line.append(f"  [{safe(more[0])}]", style="dim")
            console.print(line)
            console.print(Padding(Text(safe(evidence(a))), (0, 0, 0, 6)))
        console.print()


def alert_time(alert: Alert) -> str:
    return alert.columns()["event_time"]


def alert_record(alert: Alert) -> dict[str, Any]:
    row = alert.columns()
    row["incident"] = alert.incident
    row["notes"] = "; ".join(alert.notes)
    return row


def render_json(
    alerts: list[Alert],
    incidents: list[Any],
    summary: dict[str, Any],
    out: IO[str],
    suppressed: Iterable = (),
) -> None:
    doc: dict[str, Any] = {}
    if incidents:
        doc["incidents"] = [{**incident_dict(i), "alerts": [alert_record(a) for a in i.alerts]} for i in incidents]
    else:
        doc["alerts"] = [alert_record(a) for a in alerts]
    sup = [{**alert_record(a), "suppressed_by": entry} for a, entry in suppressed]
    if sup:
        doc["suppressed"] = sup
    doc["summary"] = summary
    out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def ndjson_line(alert: Alert, suppressed_by: str | None = None) -> str:
    """One alert as an NDJSON line (``type`` alert, or suppressed with the tuning entry's name)."""
    if suppressed_by is None:
        return orjson.dumps({"type": "alert", **alert_record(alert)}).decode() + "\n"
    return orjson.dumps({"type": "suppressed", "suppressed_by": suppressed_by, **alert_record(alert)}).decode() + "\n"


def render_ndjson(alerts: list[Alert], incidents: list[Any], out: IO[str], suppressed: Iterable = ()) -> None:
    for inc, members in groups(alerts, incidents):
        if inc is not None:
            out.write(orjson.dumps({"type": "incident", **incident_dict(inc)}).decode() + "\n")
        for a in members:
            out.write(ndjson_line(a))
    for a, entry in suppressed:
        out.write(ndjson_line(a, entry))


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    return value


CSV_COLUMNS = ("incident", "incident_level", *ALERT_COLUMNS, "notes", "suppressed_by")


class CsvWriter:
    """CSV rows one alert at a time (header first), so streamed runs never hold their alerts."""

    def __init__(self, out: IO[str]) -> None:
        self.writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        self.writer.writeheader()

    def row(self, alert: Alert, incident_level: str = "", suppressed_by: str | None = None) -> None:
        record = {**alert_record(alert), "incident_level": incident_level, "suppressed_by": suppressed_by or ""}
        self.writer.writerow({k: csv_cell(v) for k, v in record.items()})


def render_csv(alerts: list[Alert], incidents: list[Any], out: IO[str], suppressed: Iterable = ()) -> None:
    buf = io.StringIO()
    writer = CsvWriter(buf)
    for inc, members in groups(alerts, incidents):
        for a in members:
            writer.row(a, inc.level if inc is not None else "")
    for a, entry in suppressed:
        writer.row(a, suppressed_by=entry)
    out.write(buf.getvalue())
