"""Dates in AQL: DATEFORMAT's Java ``SimpleDateFormat`` patterns and PARSEDATETIME's time strings.

DATEFORMAT(ms, 'pattern') formats epoch milliseconds with Java's SimpleDateFormat letters (IBM:
https://www.ibm.com/docs/de/SSKMKU/com.ibm.qradar.doc/r_aql_time_date_formats.html). Every letter
Java defines is rendered here, as one DuckDB expression per letter run, in UTC and with the US
locale's week rules (weeks start on Sunday; week 1 is the week holding January 1), which is what
SimpleDateFormat does under ``Locale.US``:

``G`` era, ``y`` year, ``Y`` week year, ``M``/``L`` month, ``w`` week in year, ``W`` week in month,
``D`` day in year, ``d`` day in month, ``F`` day-of-week in month, ``E`` day name, ``u`` day number
(1 = Monday), ``a`` AM/PM, ``H`` 0-23, ``k`` 1-24, ``K`` 0-11, ``h`` 1-12, ``m``, ``s``, ``S``
milliseconds, ``z``/``Z``/``X`` time zone (always UTC). Numbers are zero-padded to the run's length;
``yy`` is the two-digit year; ``MMM`` the short and ``MMMM`` the full month name; ``EEEE`` the full
day name. Text in single quotes is literal, ``''`` is one quote. Any other ASCII letter is refused
(Java throws on it too).

PARSEDATETIME('1 hour ago') (IBM: https://www.ibm.com/docs/en/SSKMKU/com.ibm.qradar.doc/r_aql_start_stop.html)
accepts ``now``, ``N unit(s) ago`` (second, minute, hour, day, week, month = 30 days, year = 365
days) and the absolute formats START/STOP accept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from iisdetect.aql.errors import AqlError

_RUN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def _pad(expr: str, n: int) -> str:
    return f"printf('%0{n}d', {expr})" if n > 1 else f"CAST({expr} AS VARCHAR)"


def _letter(ch: str, n: int, ts: str, ms: str) -> str:
    """SQL for one run of pattern letter ``ch`` (length ``n``) over timestamp ``ts``."""
    week_next_year = f"year({ts} + to_days(CAST(6 - dayofweek({ts}) AS INTEGER))) > year({ts})"
    if ch == "G":
        return "'AD'"
    if ch in "yY":
        year = f"year({ts})" if ch == "y" else f"(year({ts}) + CASE WHEN {week_next_year} THEN 1 ELSE 0 END)"
        return f"printf('%02d', {year} % 100)" if n == 2 else _pad(year, n)
    if ch in "ML":
        if n >= 4:
            return f"strftime({ts}, '%B')"
        return f"strftime({ts}, '%b')" if n == 3 else _pad(f"month({ts})", n)
    if ch == "w":
        jan1 = f"dayofweek(date_trunc('year', {ts}))"
        return _pad(f"CASE WHEN {week_next_year} THEN 1 ELSE (dayofyear({ts}) + {jan1} - 1) // 7 + 1 END", n)
    if ch == "W":
        return _pad(f"(day({ts}) + dayofweek(date_trunc('month', {ts})) - 1) // 7 + 1", n)
    if ch == "D":
        return _pad(f"dayofyear({ts})", n)
    if ch == "d":
        return _pad(f"day({ts})", n)
    if ch == "F":
        return _pad(f"(day({ts}) - 1) // 7 + 1", n)
    if ch == "E":
        return f"strftime({ts}, '%A')" if n >= 4 else f"strftime({ts}, '%a')"
    if ch == "u":
        return _pad(f"isodow({ts})", n)
    if ch == "a":
        return f"CASE WHEN hour({ts}) < 12 THEN 'AM' ELSE 'PM' END"
    if ch == "H":
        return _pad(f"hour({ts})", n)
    if ch == "k":
        return _pad(f"CASE WHEN hour({ts}) = 0 THEN 24 ELSE hour({ts}) END", n)
    if ch == "K":
        return _pad(f"hour({ts}) % 12", n)
    if ch == "h":
        return _pad(f"CASE WHEN hour({ts}) % 12 = 0 THEN 12 ELSE hour({ts}) % 12 END", n)
    if ch == "m":
        return _pad(f"minute({ts})", n)
    if ch == "s":
        return _pad(f"second({ts})", n)
    if ch == "S":
        return _pad(f"CAST(((({ms}) % 1000) + 1000) % 1000 AS BIGINT)", n)
    if ch == "z":
        return "'Coordinated Universal Time'" if n >= 4 else "'UTC'"
    if ch == "Z":
        return "'+0000'"
    if ch == "X":
        return "'Z'"
    raise AqlError(f"DATEFORMAT: unsupported pattern letter {ch!r} (not a Java SimpleDateFormat letter)")


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dateformat_sql(pattern: str, ms_sql: str) -> str:
    """DuckDB SQL rendering epoch-ms expression ``ms_sql`` with a Java pattern (UTC)."""
    ms = f"CAST({ms_sql} AS BIGINT)"
    ts = f"make_timestamp({ms} * 1000)"
    parts: list[str] = []
    pos = 0
    for m in _RUN.finditer(pattern):
        if m.start() != pos:  # cannot happen: the three alternatives cover every character
            raise AqlError(f"DATEFORMAT: cannot read pattern {pattern!r}")
        tok = m.group(0)
        pos = m.end()
        if tok.startswith("'"):
            parts.append(_sql_str("'" if tok == "''" else tok[1:-1].replace("''", "'")))
        elif m.group(1):
            parts.append(_letter(tok[0], len(tok), ts, ms))
        else:
            parts.append(_sql_str(tok))
    if not parts:
        return "''"
    return f"CASE WHEN {ms} IS NULL THEN NULL ELSE concat({', '.join(parts)}) END"


_UNITS_MS = {
    "second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000, "week": 604_800_000,
    "month": 30 * 86_400_000, "year": 365 * 86_400_000,
}  # fmt: skip
_AGO = re.compile(r"(\d+)\s*(second|minute|hour|day|week|month|year)s?\s+ago", re.IGNORECASE)
ABSOLUTE_FORMATS = (
    ("%Y-%m-%d %H:%M:%S", True),
    ("%Y-%m-%d %H:%M", False),
    ("%Y/%m/%d %H:%M:%S", True),
    ("%Y/%m/%d-%H:%M:%S", True),
    ("%Y:%m:%d-%H:%M:%S", True),
    ("%Y/%m/%d %H:%M", False),
)


def absolute_ms(text: str) -> tuple[int, bool] | None:
    """Epoch ms of an absolute START/STOP time (UTC), and whether it names seconds; None if not one."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
    for fmt, seconds in ABSOLUTE_FORMATS:
        try:
            dt = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(dt.timestamp() * 1000), seconds
    return None


def parse_datetime(text: str, now_ms: int) -> int:
    """PARSEDATETIME: epoch ms of ``now``, ``N units ago`` or an absolute time."""
    t = text.strip()
    if t.lower() == "now":
        return now_ms
    m = _AGO.fullmatch(t)
    if m:
        return now_ms - int(m.group(1)) * _UNITS_MS[m.group(2).lower()]
    found = absolute_ms(t)
    if found:
        return found[0]
    raise AqlError(f"PARSEDATETIME: cannot read {text!r} (use 'now', 'N hours ago' or 'yyyy-MM-dd HH:mm[:ss]')")
