"""The one escaping function for attacker-controlled text on a terminal or in a CSV cell.

Why one function: log fields (CommandLine, TargetFilename, Computer...) and error messages that quote
them are written by whoever produced the events. Printed raw they can clear the screen, set the
window title, plant a hyperlink (ANSI CSI/OSC), forge table lines (LF, CR, U+2028/2029, NEL),
reverse the text that follows (bidi overrides, CVE-2021-42574 "Trojan Source") or hide characters
(zero-width). Every terminal path (hunt table, aql table, run summary, one-line errors) and every
CSV cell goes through :func:`inert`, so the rule is written once and tested once
(tests/report/test_escape.py, and under a pseudo-terminal in tests/hostile/).

What is escaped: every C0 control (TAB, LF and CR included), DEL, every C1 control, the Unicode line
and paragraph separators, bidi embedding/override/isolate marks, zero-width characters, the BOM and
lone surrogates (which no UTF-8 stream can encode). Each becomes a visible ``\\xNN`` / ``\\uNNNN``.
A backslash is left alone, so ordinary Windows paths read as they are.

CSV (``csv=True``): a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR is a formula to a
spreadsheet (OWASP, https://owasp.org/www-community/attacks/CSV_Injection): it gets a leading ``'``.
The check is on the raw cell, then controls are escaped. JSON and NDJSON keep exact values
(their encoders escape controls); only the human and spreadsheet paths are made inert.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 (TAB/LF/CR too), DEL, C1 (NEL, CSI...)
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"  # ALM, zero-width, LRM/RLM, LS/PS, bidi, isolates
    "\ud800-\udfff]"  # lone surrogates
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def inert(value: Any, csv: bool = False) -> str:
    """Printable, inert form of ``value`` (``None`` -> ``""``); ``csv`` adds formula neutralising."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if csv and text.startswith(FORMULA_START):  # a lone "-" too: OWASP's list, no exceptions
        text = "'" + text
    return _UNSAFE.sub(_visible, text)


def csv_value(value: Any) -> Any:
    """A CSV cell: strings made inert (formula prefix included); numbers and None pass unchanged."""
    return inert(value, csv=True) if isinstance(value, str) else value
