"""The one home for time: event-time normalisation, user-typed instants and durations, ISO formatting.

Every reader, the tuning windows, the simulator, the AQL emulator and every command parse and format
times here, so ``--last 2w`` means the same to ``hunt`` and ``export`` and an event time has one
canonical shape: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC; Windows event times are UTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from iisdetect.errors import IisdetectError, UsageError

#: Field ranges are checked by the pattern itself (cheap), so impossible dates from damaged records
#: never reach :func:`parse_time`; only days 29-31 need a calendar check.
_FRACTION = re.compile(
    r"^(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))[T ]((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)"
    r"(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DURATION = re.compile(r"^\s*(\d{1,9})\s*(s|sec|secs|m|min|mins|h|hour|hours|d|day|days|w|week|weeks)\s*$", re.I)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: the longest duration any command accepts (beyond it timedelta arithmetic overflows)
MAX_DURATION = timedelta(days=365 * 100)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def normalise_time(raw: Any) -> str:
    """Return ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC) for the time shapes Windows tools write.

    Accepts EVTX/XML SystemTime (7 fractional digits), ISO strings with offsets, Sysmon UtcTime
    (``2021-03-14 01:40:19.702``), and epoch seconds/milliseconds. Returns ``""`` when unknown:
    a missing time must not drop the event.
    """
    if raw is None or raw == "":
        return ""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = raw / 1000.0 if raw > 1e11 else float(raw)
        try:
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except (OverflowError, OSError, ValueError):  # out of range or NaN: unknown, not fatal
            return ""
    text = str(raw).strip()
    m = _FRACTION.match(text)
    if not m:
        return ""
    day, clock, frac, tz = m.groups()
    frac = ((frac or "") + "000000")[:6]
    if tz in (None, "Z", "+00:00", "+0000", "-00:00"):
        if day[8:10] > "28":  # 29-31: does the day exist in that month?
            try:
                datetime(int(day[:4]), int(day[5:7]), int(day[8:10]))
            except ValueError:
                return ""
        return f"{day}T{clock}.{frac}Z"
    try:
        dt = datetime.fromisoformat(f"{day}T{clock}.{frac}{tz if ':' in tz else tz[:3] + ':' + tz[3:]}")
        return format_iso(dt)
    except (OverflowError, ValueError):
        return ""


def parse_time(text: str) -> datetime:
    """Inverse of :func:`normalise_time` (aware UTC datetime); minimum datetime when empty."""
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_iso(dt: datetime | None, digits: int = 6) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.f]Z`` in UTC with ``digits`` fractional digits (0, 3 or 6); naive = UTC."""
    if dt is None:
        return ""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if digits <= 0:
        return base + "Z"
    return f"{base}.{dt.microsecond:06d}"[: len(base) + 1 + digits] + "Z"


def iso_ms(canonical: str) -> str:
    """A canonical event time cut to milliseconds (``...SS.mmmZ``), the form analysts' tools import."""
    return f"{canonical[:23]}Z" if len(canonical) >= 23 else canonical


def ms_to_iso(ms: int | None, sep: str = " ") -> str:
    """Epoch milliseconds -> ``YYYY-MM-DD HH:MM:SS.mmmZ`` (QRadar's starttime shown as text)."""
    if ms is None:
        return "-"
    try:
        return format_iso(EPOCH + timedelta(milliseconds=ms), 3).replace("T", sep)
    except OverflowError:
        return "-"


def to_epoch_ms(dt: datetime) -> int:
    return int((dt.astimezone(UTC) - EPOCH) / timedelta(milliseconds=1))


def parse_instant(text: str) -> datetime:
    """A user-typed ISO date or date-time (or ``now``); naive values are UTC."""
    raw = text.strip()
    if raw.lower() == "now":
        return datetime.now(UTC)
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"bad time {text!r}: use ISO format, e.g. 2024-05-01 or 2024-05-01T13:00:00Z") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_datetime(value: Any, label: str, error: Callable[[str], IisdetectError] = UsageError) -> datetime:
    """A time from a YAML file (a datetime, a date or an ISO string) -> aware UTC datetime.

    ``error`` builds the exception, so a scenario file raises its own error type with its location.
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise error(f"{label}: {value!r} is not an ISO date/time (e.g. 2026-11-28T22:00:00Z)") from None
    else:
        raise error(f"{label}: {value!r} is not an ISO date/time")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` (or ``hours``, ``days``...) -> timedelta, for every command."""
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"bad duration {text!r}: use a number and a unit, e.g. 30m, 24h, 7d, 2w")
    unit = m.group(2).lower()[0]
    value = int(m.group(1))
    if value <= 0:
        raise UsageError(f"bad duration {text!r}: must be greater than zero")
    try:
        td = timedelta(**{_UNITS[unit]: value})
    except OverflowError:
        td = MAX_DURATION + timedelta(days=1)
    if td > MAX_DURATION:
        raise UsageError(f"bad duration {text!r}: at most {MAX_DURATION.days} days")
    return td


def aql_last(td: timedelta) -> str:
    """A duration as AQL's ``LAST n MINUTES|HOURS|DAYS`` operand (the largest unit that divides it)."""
    minutes = max(1, int(td.total_seconds() // 60))
    for unit, size in (("DAYS", 1440), ("HOURS", 60)):
        if minutes % size == 0:
            return f"{minutes // size} {unit}"
    return f"{minutes} MINUTES"
