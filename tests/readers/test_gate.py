"""readers/gate.py's raw-text tests: the Hyperscan escape pattern says what the ``find`` loop says."""

from __future__ import annotations

from pathlib import Path

import evtx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iisdetect.readers import gate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"a":"\\u0041"}', True),  # an escape
        (b'{"a":"\\\\u0041"}', False),  # an escaped backslash, then a plain u
        (b'{"a":"\\\\\\u0041"}', True),  # an escaped backslash, then an escape
        (b"\\u", True),  # at the very start
        (b'{"a":"x\\/y"}', True),
        (b'{"a":"C:\\\\Windows\\\\u.dll"}', False),
        (b'{"a":"C:\\\\\\\\/"}', False),
        (b"", False),
    ],
)
def test_escape_cases(text: bytes, expected: bool) -> None:
    assert gate.escaped_by_find(text) is expected
    assert gate.escaped(text) is expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"\\", b"u", b"/", b"a", b'"', b"\\\\"]), max_size=24))
def test_escape_pattern_agrees_with_the_find_loop(parts: list[bytes]) -> None:
    text = b"".join(parts)
    assert gate.escaped(text) == gate.escaped_by_find(text)


def test_escape_pattern_agrees_on_real_lines(corpus: Path) -> None:
    lines = 0
    for path in sorted(corpus.rglob("*.json")):
        with path.open("rb") as fh:
            for line in fh.read(4_000_000).splitlines():
                assert gate.escaped(line) == gate.escaped_by_find(line), path
                lines += 1
    for path in sorted(corpus.rglob("*.evtx"))[::2]:  # pyevtx's text: \u00XX for control characters
        try:
            records = list(evtx.PyEvtxParser(str(path)).records_json())
        except (RuntimeError, OSError):
            continue
        for rec in records[:500]:
            data = rec["data"].encode()
            assert gate.escaped(data) == gate.escaped_by_find(data), path
            lines += 1
    assert lines > 8_000
