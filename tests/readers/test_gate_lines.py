"""readers/gate_lines.py: a block's verdicts are :func:`gate.verdict_line`'s, line for line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iisdetect.engine.prefilter import RecordGate
from iisdetect.engine.ruleset import load_rules
from iisdetect.readers import gate, gate_lines
from iisdetect.readers.line_blocks import line_blocks
from tests.helpers import corpus_json_blobs
from tests.readers.test_gate import LINE_CASES

pytestmark = pytest.mark.skipif(gate_lines._BLOCK_MARKS is None, reason="needs Hyperscan (the block scan)")

GATES = {name: RecordGate(load_rules(name).rules) for name in ("seed", "iis")}
PLAIN = [
    b'{"EventID":4688,"Channel":"Security","NewProcessName":"C:\\\\Windows\\\\System32\\\\cmd.exe"}',
    b'{"EventID":4624,"Channel":"Security","LogonType":"3"}',
    b'{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":7,"ImageLoaded":"C:\\\\x\\\\w3wp.dll"}',
    b'{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":3,"Image":"C:\\\\a.exe"}',
    b'{"EventID":"5145","Channel":"Security","ShareName":"\\\\\\\\*\\\\IPC$"}',
]


def _compare(g: RecordGate, data: bytes, size: int, provider: bool = False) -> list[int]:
    """Every block's verdicts against the line-by-line ones; returns all verdicts."""
    fh = io.BytesIO(data)
    out: list[int] = []
    for block in line_blocks(fh.read(max(size, 3)), fh.read, size, 1 << 20):
        got = gate_lines.block_verdicts(g, block, True, provider)
        lines = [None if k in block.dropped else block.line(k) for k in range(len(block.stops))]
        want = [gate.verdict_line(g, line, True, provider) if line else gate.DECODE for line in lines]
        assert got == want, [block.line(k)[:120] for k in range(len(got)) if got[k] != want[k]]
        out += got
    return out


@pytest.mark.parametrize("name", sorted(GATES))
def test_crafted_lines_in_every_position(name: str) -> None:
    g = GATES[name]
    cases = [
        *LINE_CASES, b"", b"   ", b'{"EventID":7}\r', b"[1,2]", b'{"EventID":4688,"x":"\\\\"EventID"}',
        b'{"a":"\\"EventID":4688}',  # the only key after a backslash (and not JSON): decoded, reported
        b'{"EventID":1,"\\u0041":2}',  # a key and an escape
    ]  # fmt: skip
    for case in cases:
        for before in range(3):
            lines = PLAIN[:before] + [case] + PLAIN[before:]
            for size in (7, 64, 1 << 20):
                _compare(g, b"\n".join(lines) + b"\n", size)
                _compare(g, b"\n".join(lines), size)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PLAIN + LINE_CASES + [b"", b'{"EventID":1,"\\u0041":2}', b"\xff"]), max_size=12),
    st.integers(1, 200),
    st.sampled_from(sorted(GATES)),
    st.booleans(),
)
def test_random_blocks_agree(lines: list[bytes], size: int, name: str, crlf: bool) -> None:
    sep = b"\r\n" if crlf else b"\n"
    _compare(GATES[name], sep.join(lines), size, provider=crlf)


def test_plain_blocks_take_the_fast_path() -> None:
    """The block-wide checks (no Python frame per line) do run, so the comparison above covers them."""
    g = GATES["iis"]
    block = next(line_blocks(b"\n".join(PLAIN * 50) + b"\n", lambda n: b"", 1 << 20, 1 << 20))
    ids, ends = gate_lines._BLOCK_MARKS(block.buf)  # type: ignore[misc]
    assert gate_lines._plain_block(g, block.buf, ends, block.starts, block.stops, False) is not None
    assert gate_lines.block_verdicts(g, block) == [gate.verdict_line(g, block.line(k)) for k in range(250)]


def test_real_lines_agree(corpus: Path) -> None:
    """The corpus's JSON lines, in 1 MiB blocks and in 64 KiB blocks (boundaries inside lines)."""
    from collections import Counter

    seen: Counter[int] = Counter()
    for _where, blob in corpus_json_blobs(corpus):
        for g in GATES.values():
            for size in (1 << 20, 65_536):
                seen.update(_compare(g, blob, size, provider=True))
    assert seen[gate.DECODE] > 5 and seen[gate.ROUTED_AWAY] > 1000 and seen[gate.PREFILTERED] > 500, seen


def _lines_file(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """Routed-away lines with one line the default ruleset decodes (a w3wp image load) in the middle."""
    hit = (
        b'{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":7,'
        b'"Image":"C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe","ImageLoaded":"C:\\\\x\\\\evil.dll"}'
    )
    lines = [PLAIN[1]] * 3000 + [hit] + [PLAIN[1]] * 3000
    path = tmp_path / "a.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def test_the_reader_counts_every_line_once(tmp_path: Path) -> None:
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events

    path, lines = _lines_file(tmp_path)
    stats = RunStats()
    events = list(iter_events([str(path)], stats, gate=GATES["iis"]))
    assert [e.data.get("ImageLoaded") for e in events] == ["C:\\x\\evil.dll"]
    assert events[0].locator == "line 3001"
    assert (stats.records_read, stats.routed_away, stats.prefiltered) == (len(lines), len(lines) - 1, 0)


def test_a_reader_stopped_early_counts_only_the_lines_it_reached(tmp_path: Path) -> None:
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events

    path, _ = _lines_file(tmp_path)
    stats = RunStats()
    stream = iter_events([str(path)], stats, gate=GATES["iis"])
    next(stream)
    stream.close()  # a consumer that stops at the first event (its block holds lines after it)
    assert (stats.records_read, stats.routed_away) == (3001, 3000)


@pytest.mark.parametrize("name", sorted(GATES))
def test_crlf_lines_get_the_verdicts_of_their_raw_text(name: str) -> None:
    """A CRLF file's entries lose their CR (line_blocks); the verdicts are those of the raw lines."""
    g = GATES[name]
    raw = [line + b"\r" for line in PLAIN + [c for c in LINE_CASES if c.strip()]]
    block = next(line_blocks(b"\n".join(raw) + b"\n", lambda n: b"", 1 << 20, 1 << 20))
    assert [block.line(k) for k in range(len(raw))] == [line[:-1] for line in raw]
    assert gate_lines.block_verdicts(g, block) == [gate.verdict_line(g, line) for line in raw]
