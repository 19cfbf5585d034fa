"""The gate's verdicts for a whole block of NDJSON lines from one Hyperscan pass (issue 18).

Why a block: asking :func:`~.gate.verdict_line` line by line pays a Hyperscan call (its scratch, its
argument parsing, two lists cleared) and a Python frame per line; on an OTRF file, where routing
skips nearly every line by its EventID, those fixed costs were most of the hunt's time (3.3 us a
1.9 KB line). Here a block's buffer (readers/line_blocks.py: its lines in place) is scanned once for
the two marks :func:`~.gate.verdict_line` needs (an escape, each ``"EventID"`` key), and each line's
verdict is settled from the marks that fall inside it.

The answers are :func:`~.gate.verdict_line`'s, line for line (tests/readers/test_gate_lines.py holds
them to it on the corpus's NDJSON and on crafted blocks): a line is settled here only when it is a
plain ``{...}`` line with no escape and exactly one key not after a backslash; every other line (and
every line when Hyperscan is absent) is handed to :func:`~.gate.verdict_line` itself.
"""

from __future__ import annotations

from codecs import utf_8_decode
from itertools import repeat
from operator import add, gt, lt, sub
from typing import Any

from iisdetect.engine.literal_scan import compile_marks

from .gate import _EID_BY_TEXT, _EID_TEXT, _ESCAPE, DECODE, ROUTED_AWAY, _verdict_at, verdict_line
from .line_blocks import LineBlock

#: One pass over a block: pattern 0 each escape, pattern 1 each ``"EventID"`` (every match, by end).
_BLOCK_MARKS = compile_marks([(_ESCAPE, False), (b'"EventID"', False)])
_KEY = len(b'"EventID"')


def block_verdicts(gate: Any, block: LineBlock, route: bool = True, provider: bool = False) -> list[int]:
    """``[verdict_line(gate, line, route, provider) for line in block's lines]``, from one scan of the
    block (DECODE for a dropped or blank line: the reader reports or passes those itself)."""
    starts, stops, dropped = block.starts, block.stops, block.dropped
    if not route or _BLOCK_MARKS is None:
        return [_one(gate, block, k, route, provider) for k in range(len(stops))]
    buf = block.buf
    ids, ends = _BLOCK_MARKS(buf)
    if 0 not in ids and not dropped:
        fast = _plain_block(gate, buf, ends, starts, stops, provider)
        if fast is not None:
            return fast
    out = [DECODE] * len(stops)
    # the one key of each line (-1: none yet; -2: an escape or a second key: decoded)
    key_at = [-1] * len(stops)
    k, last = 0, len(stops) - 1
    for pid, end in zip(ids, ends, strict=True):
        while end > stops[k]:  # the line holding the match's last byte
            if k == last:
                break
            k += 1
        if end > stops[k]:  # in the unfinished line after the block's last one
            break
        key_at[k] = -2 if pid == 0 or key_at[k] != -1 else end
    ascii_block = buf.isascii()
    for k, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        end = key_at[k]
        if k in dropped or start == stop:
            pass
        elif buf[start] != 123 or buf[stop - 1] != 125 or not (ascii_block or _utf8(buf[start:stop])):
            out[k] = verdict_line(gate, buf[start:stop], route, provider)  # padded, broken or not an object
        elif end < 0:  # no key, two, or an escape: decoded, as verdict_line answers
            pass
        elif buf[end - _KEY - 1] != 92:  # not after a backslash
            out[k] = _verdict_at(gate, buf[start:stop], end - start, provider)
    return out


def _one(gate: Any, block: LineBlock, k: int, route: bool, provider: bool) -> int:
    line = block.line(k)
    return DECODE if k in block.dropped or not line else verdict_line(gate, line, route, provider)


def _plain_block(
    gate: Any, buf: bytes, ends: list[int], starts: list[int], stops: list[int], provider: bool
) -> list[int] | None:
    """The verdicts of a block whose every line is a plain ``{...}`` line holding exactly one key (not
    after a backslash) and the block no escape (the caller checked), or None for any other block.

    Each check runs over the whole block in C (``map`` over the block's lists), so the common block
    (an export of one tool) costs no Python frame per line; only lines whose EventID has rules, or is
    met for the first time, take :func:`~.gate._verdict_at` one by one.
    """
    n = len(stops)
    if len(ends) < n:
        return None
    if len(ends) > n:  # marks in the unfinished line after the block's last one
        if ends[n] <= stops[-1]:
            return None
        ends = ends[:n]
    # mark k inside line k, for every k: so each line holds exactly one key
    if not all(map(lt, ends, stops)) or not all(map(gt, ends, starts)):
        return None
    if not all(map(int.__eq__, map(buf.__getitem__, starts), repeat(123))):
        return None
    if not all(map(int.__eq__, map(buf.__getitem__, map(sub, stops, repeat(1))), repeat(125))):
        return None
    if 92 in map(buf.__getitem__, map(sub, ends, repeat(_KEY + 1))):  # a key after a backslash
        return None
    if not buf.isascii():
        try:  # the lines are valid UTF-8 exactly when the block up to its unfinished tail is (a
            # newline never splits a character; final=False lets the tail end inside one)
            utf_8_decode(buf, "strict", False)
        except UnicodeDecodeError:
            return None
    eids = list(map(_EID_BY_TEXT.get, map(buf.__getitem__, map(slice, ends, map(add, ends, repeat(_EID_TEXT))))))
    out = list(map(_away_verdicts(gate.routed_away()).get, eids, repeat(DECODE)))
    for k in [k for k, v in enumerate(out) if not v]:  # EventIDs with rules, or not met yet
        out[k] = _verdict_at(gate, buf[starts[k] : stops[k]], ends[k] - starts[k], provider)
    return out


_AWAY: list[Any] = [None, {}]  # the last routed-away set seen, and it as {eid: ROUTED_AWAY}


def _away_verdicts(away: frozenset[int | None]) -> dict[int | None, int]:
    """``away`` as a dict for ``map(dict.get, ...)`` (3x cheaper a line than ``map`` over
    ``frozenset.__contains__`` and ``int``); rebuilt only when the gate's set changes (it returns the
    same object until a plan is added)."""
    if _AWAY[0] is not away:
        _AWAY[0], _AWAY[1] = away, dict.fromkeys(away, ROUTED_AWAY)
    return _AWAY[1]


def _utf8(line: bytes) -> bool:
    if line.isascii():
        return True
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True
