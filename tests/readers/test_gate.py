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


def _both(g: object, data: bytes) -> tuple[bool, tuple[int, int, int]]:
    from iisdetect.model.stats import RunStats

    out = []
    for fn in (lambda s: gate.admit(g, data, s, trusted=True, provider=True), lambda s: gate.admit_pyevtx(g, data, s)):
        s = RunStats()
        out.append((fn(s), (s.records_read, s.routed_away, s.prefiltered)))
    assert out[0] == out[1], data[:300]
    return out[0]


def test_inlined_evtx_admit_is_admit(corpus: Path) -> None:
    from iisdetect.engine.prefilter import RecordGate
    from iisdetect.engine.ruleset import load_rules

    gates = [RecordGate(load_rules(name).rules) for name in ("seed", "iis")]
    seen: dict[bool, int] = {True: 0, False: 0}
    crafted = [
        b'{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"EventID":"4"}}}',
        b'{"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":7045,'
        b'"Channel":"Other"},"EventData":{"ImagePath":"x"}}}',
        b'{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Channel":null}}}',
        b'{"Event":{"System":{"EventID":4688,"Channel":"Security"},"EventData":{"NewProcessName":"C:\\\\w3wp.exe"}}}',
        b'\\"EventID":4688',
        b"{}",
    ]
    latin = 0
    for path in sorted(corpus.rglob("*.evtx")):
        try:
            records = list(evtx.PyEvtxParser(str(path)).records_json())
        except (RuntimeError, OSError):
            continue
        for rec in records[:300]:
            text = rec["data"]
            crafted.append(text.encode())
            try:  # the reader's fast encoding must give the UTF-8 answer
                as_latin = text.encode("latin-1")
            except UnicodeEncodeError:
                continue
            if not text.isascii():
                latin += 1
                for g in gates:
                    assert gate.verdict_pyevtx(g, as_latin) == gate.verdict_pyevtx(g, text.encode()), path
    for data in crafted:
        for g in gates:
            seen[_both(g, data)[0]] += 1
    assert seen[True] > 100 and seen[False] > 1000  # both answers, many times
    assert latin > 1000  # records whose Latin-1 and UTF-8 bytes differ
