"""Parse the time options users type: ``--since 2024-05-01``, ``--until '2024-05-02 10:00'``, ``--last 24h``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from iisdetect.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|secs|m|min|mins|h|hour|hours|d|day|days|w|week|weeks)\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` -> timedelta; anything else is a usage error."""
    m = _DURATION.match(text)
    if not m:
        raise UsageError(f"bad duration {text!r}: use a number and a unit, e.g. 30m, 24h, 7d")
    unit = m.group(2).lower()[0]
    return timedelta(**{_UNITS[unit]: int(m.group(1))})


def parse_instant(text: str) -> datetime:
    """ISO date or date-time; naive values are UTC (Windows event times are UTC)."""
    raw = text.strip()
    if raw.lower() == "now":
        return datetime.now(UTC)
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"bad time {text!r}: use ISO format, e.g. 2024-05-01 or 2024-05-01T13:00:00Z") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
