"""readers/line_blocks.py: the lines it gives are ``split(b"\\n")``'s, whatever the block boundaries."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from iisdetect.readers.line_blocks import line_blocks


def _reference(data: bytes, max_line: int) -> list[tuple[int, bytes | None]]:
    """Numbered lines as the reader owes them: a line over ``max_line`` is None (dropped), an empty
    line is no entry (the reader skips it), a CRLF line's CR is not part of it, a UTF-8 BOM at the
    start is not part of line 1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    parts = data.split(b"\n")
    ended = [p.removesuffix(b"\r") for p in parts[:-1]] + parts[-1:]  # a CR before a newline goes
    return [(i, None if len(p) > max_line else q) for i, (p, q) in enumerate(zip(parts, ended, strict=True), 1) if p]


def _blocked(data: bytes, size: int, max_line: int, first: int = 0) -> list[tuple[int, bytes | None]]:
    fh = io.BytesIO(data)
    out = []
    # the reader's first block is at least 4 KiB (json_loop._at_least): a BOM is always whole in it
    for block in line_blocks(fh.read(max(size, 3)), fh.read, size, max_line, first):
        assert len(block.stops) >= 1
        for k in range(len(block.stops)):
            out.append((block.number(k), None if k in block.dropped else block.line(k)))
    return out


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.sampled_from([b"\n", b"{", b"}", b"x", b"xyzw" * 5, b"\r", b"\xef\xbb\xbf", b"\n\n"]), max_size=40),
    st.integers(1, 17),
    st.integers(0, 30),
)
def test_lines_are_split_lines_whatever_the_blocks(parts: list[bytes], size: int, max_line: int) -> None:
    data = b"".join(parts)
    assert _blocked(data, size, max_line) == _reference(data, max_line)


def test_numbering_starts_after_the_given_count_and_a_bom_is_not_data() -> None:
    data = b'\xef\xbb\xbf{"a":1}\n\n{"b":2}'
    assert _blocked(data, 4, 100, first=10) == [(11, b'{"a":1}'), (13, b'{"b":2}')]


def test_a_line_too_long_is_dropped_not_held() -> None:
    """A 1 MiB line against a 1 KiB max_line: dropped, its neighbours intact, in 4 KiB reads."""
    data = b"a\n" + b"x" * (1 << 20) + b"\nb\n" + b"y" * 5000
    got = _blocked(data, 4096, 1024)
    assert got == [(1, b"a"), (2, None), (3, b"b"), (4, None)]
    fh = io.BytesIO(data)
    biggest = max(len(b.buf) for b in line_blocks(fh.read(4096), fh.read, 4096, 1024))
    assert biggest <= 4096 + 1024  # never more than a read and the carried start of a line
