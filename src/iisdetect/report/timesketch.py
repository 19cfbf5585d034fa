"""``--format timesketch``: JSONL that Timesketch imports as a timeline.

Timesketch's importer needs ``message``, ``datetime`` (ISO 8601) and ``timestamp_desc`` on every
line (Timesketch user guide ``docs/guides/user/import-from-json-csv.md``, google/timesketch; also
``docs/CreateTimelineFromJSONorCSV.md`` in older releases); ``timestamp`` (microseconds since the
epoch) is optional and given so the import need not parse the date. Every other key becomes a
searchable attribute, so the line carries the alert record flat: rule, level, tags, record ids,
source file, evidence (``evidence_<name>``) and the EventData fields (``data_<Field>``, the prefix
Timesketch's own Plaso-based imports use for event data). Nested objects are avoided because
Timesketch indexes them as opaque strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, Any

import orjson

from iisdetect.hunting.alerts import Alert, alert_record
from iisdetect.report.hunt_output import evidence

TIMESTAMP_DESC = "Event Recorded"


def timesketch_line(alert: Alert, incident_level: str = "") -> dict[str, Any]:
    rec = alert_record(alert)
    ev = rec.pop("evidence")
    event = rec.pop("event")
    when = rec["time"]
    out: dict[str, Any] = {
        "message": f"[{rec['level']}] {rec['rule_title']} on {rec['Computer']}: {evidence(alert)}",
        "datetime": when.replace("Z", "+00:00") if when else "1970-01-01T00:00:00+00:00",
        "timestamp": _micros(alert.event.time_created),
        "timestamp_desc": TIMESTAMP_DESC,
    }
    for k, v in rec.items():
        if k in out:
            continue
        out[k] = ";".join(v) if isinstance(v, list) and k != "tags" else v
    out["incident_level"] = incident_level or None
    for k, v in ev.items():
        out[f"evidence_{k}"] = v
    for k, v in event["EventData"].items():
        out[f"data_{k}"] = v
    return out


def _micros(time_created: str) -> int:
    if not time_created:
        return 0
    dt = datetime.fromisoformat(time_created.replace("Z", "+00:00")).astimezone(UTC)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def render_timesketch(alerts: list[Alert], incidents: list[Any], out: IO[str]) -> None:
    pairs = [(a, inc.level) for inc in incidents for a in inc.alerts] if incidents else [(a, "") for a in alerts]
    for a, level in pairs:
        out.write(orjson.dumps(timesketch_line(a, level)).decode() + "\n")
