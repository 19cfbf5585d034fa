"""readers/gate.py's raw-text tests: the Hyperscan escape pattern says what the ``find`` loop says."""

from __future__ import annotations

from pathlib import Path

import evtx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iisdetect.readers import gate
from tests.helpers import corpus_evtx_texts, corpus_json_blobs


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
    generic = lambda s: gate.admit(g, data, s, trusted=True, provider=True)  # noqa: E731
    inlined = lambda s: gate.counted(gate.verdict_pyevtx(g, data), s)  # noqa: E731
    for fn in (generic, inlined):
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
    for path, text in corpus_evtx_texts(corpus):
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


def _line_reference(g: object, line: bytes, route: bool, provider: bool) -> int:
    """The line verdict the way :func:`gate.admit` reaches it (``find``-based reads, no marks)."""
    from iisdetect.model.stats import RunStats

    text = line.strip()
    if not text or text[:1] != b"{" or text[-1:] != b"}":
        return gate.DECODE
    try:
        text.decode()
    except UnicodeDecodeError:
        return gate.DECODE
    s = RunStats()
    if gate.admit(g, text, s, route, provider=provider):
        return gate.DECODE
    return gate.ROUTED_AWAY if s.routed_away else gate.PREFILTERED


LINE_CASES = [
    b'{"EventID":4688,"Channel":"Security","NewProcessName":"C:\\\\w3wp.exe"}',
    b'  {"EventID":4688,"Channel":"Security"}  \r',
    b'{"EventID":4688,"EventData":{"EventID":"1"},"Channel":"Security"}',  # the key twice
    b'{"x":"\\"EventID\\":5","EventID":4688}',  # a key spelt inside a string, then the real one
    b'{"\\u0045ventID":4688,"Channel":"Security"}',  # an escape
    b'{"EventID":"4624","Channel":"Security"}',
    b'{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Channel":"System"}',
    b'{"EventID":  12   ,"Channel":"Microsoft-Windows-Sysmon/Operational"}',
    b'{"EventID":4688,"Channel":"S\xc3\xa9curit\xc3\xa9"}',  # non-ASCII channel
    b'{"EventID":4688,"Channel":"Security","x":"\xff"}',  # not UTF-8
    b'{"EventID":4688',  # truncated
    b'{"winlog":{"event_id":1},"message":"x"}',
    b"{}",
]


@pytest.mark.parametrize("line", LINE_CASES)
@pytest.mark.parametrize("route", [True, False])
def test_line_verdict_is_admits_on_crafted_lines(line: bytes, route: bool) -> None:
    from iisdetect.engine.prefilter import RecordGate
    from iisdetect.engine.ruleset import load_rules

    for name in ("seed", "iis"):
        g = RecordGate(load_rules(name).rules)
        assert gate.verdict_line(g, line, route) == _line_reference(g, line, route, False), (name, line)


def test_line_verdict_is_admits_on_real_lines(corpus: Path) -> None:
    """JSON lines of the corpus (every plain .json file, every 4th OTRF zip): the one-scan path answers as admit."""
    from collections import Counter

    from iisdetect.engine.prefilter import RecordGate
    from iisdetect.engine.ruleset import load_rules

    gates = [RecordGate(load_rules(name).rules) for name in ("seed", "iis")]
    seen: Counter[int] = Counter()
    for where, blob in corpus_json_blobs(corpus):
        for line in blob.splitlines():
            for g in gates:
                v = gate.verdict_line(g, line, True, True)
                assert v == _line_reference(g, line, True, True), (where, line[:200])
                seen[v] += 1
    assert seen[gate.DECODE] > 5 and seen[gate.ROUTED_AWAY] > 1000 and seen[gate.PREFILTERED] > 500, seen
