"""Small time helpers shared by the renderers of ``ir.TimeWindow`` (maintenance windows)."""

from __future__ import annotations

from datetime import UTC, datetime


def epoch_s(iso: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) -> Unix seconds."""
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp())


def epoch_ms(iso: str) -> int:
    return epoch_s(iso) * 1000


def hhmm_range_regex(lo: int, hi: int) -> str:
    """A full-match regex over ``HH:mm`` for the minutes of the day in ``[lo, hi)``.

    Whole hours become one ``(?:08|09|...):[0-5][0-9]`` group; the partial hours at either end list
    their minutes, so the pattern stays short (< 400 chars) for any range.
    """
    full: list[str] = []
    partial: list[str] = []
    for h in range(lo // 60, (hi - 1) // 60 + 1):
        a, b = max(lo, h * 60), min(hi, h * 60 + 60)
        if (a, b) == (h * 60, h * 60 + 60):
            full.append(f"{h:02d}")
        else:
            partial.append(f"{h:02d}:(?:" + "|".join(f"{m % 60:02d}" for m in range(a, b)) + ")")
    alts = ([f"(?:{'|'.join(full)}):[0-5][0-9]"] if full else []) + partial
    return "(?:" + "|".join(alts) + ")"
