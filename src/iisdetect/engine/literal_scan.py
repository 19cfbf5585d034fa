"""One case-insensitive scan for "does this record hold any of these literals?" (the prefilter's test).

Why its own module: the scan runs on nearly every record of a hunt (on a Sysmon log, 97% of the
records are decided by it), so its cost per record is the hunt's floor. Two engines, same answer:

* **Hyperscan** (Intel's multi-literal matcher, the ``hyperscan`` wheel, pinned in pyproject.toml
  where a wheel exists: Linux x86_64, macOS arm64, Windows x86_64): 0.8 us for a 1.6 KB Sysmon record
  against the default ruleset's 85 EventID-1 literals, against 3.4 us for RE2 (bench/bench_speed.py).
* **RE2** (``google-re2``, everywhere): one alternation compiled case-insensitive; linear time.

Both are exact for the prefilter's literals, which are ASCII (``prefilter.safe_literal``): Hyperscan's
``HS_FLAG_CASELESS`` folds ASCII letters only, which is what Python's ``lower()`` does to ASCII
text. RE2 also folds a few non-ASCII letters onto ASCII ones (U+212A KELVIN SIGN onto ``k``, U+017F
onto ``s``): a superset, so still never a missed record. The two non-ASCII characters Python's
``lower()`` turns into ASCII (U+0130, U+212A) are literals of every prefilter scan
(``prefilter.FOLDS_TO_ASCII``), whichever engine runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import re2

from iisdetect.engine.linear_re import compile_linear

try:  # an optional wheel: absent on platforms it does not build for, and then RE2 does the work
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised where the wheel is missing
    _hs = None

Scan = Callable[[bytes], bool]
#: ``IISDETECT_LITERAL_SCAN=re2`` forces RE2 (to compare the engines, or to rule one out).
ENGINES = ("hyperscan", "re2") if _hs is not None else ("re2",)


def default_engine() -> str:
    """The engine a hunt uses: Hyperscan when installed, unless the environment asks for RE2."""
    return "re2" if os.environ.get("IISDETECT_LITERAL_SCAN") == "re2" else ENGINES[0]


def compile_literals(literals: Iterable[bytes], engine: str | None = None) -> Scan:
    """``scan(data) -> bool``: does ``data`` hold any of ``literals``, ASCII case ignored.

    ``literals`` are the byte strings to find as they are (the caller gives their JSON-escaped form);
    an empty set gives a scan that never matches (no rule can take such a record).
    """
    lits = sorted(set(literals), key=lambda b: (len(b), b))
    if not lits:
        return _never
    engine = engine or default_engine()
    if engine == "hyperscan":
        if _hs is None:
            raise ValueError("the hyperscan engine is not installed")
        return _hyperscan(lits)
    if engine != "re2":
        raise ValueError(f"unknown literal-scan engine {engine!r}")
    return _re2(lits)


def compile_pattern_hit(pattern: bytes) -> Scan | None:
    """``hit(data) -> bool`` for one regular ``pattern`` on Hyperscan, or None without Hyperscan (the
    caller keeps its own test). Why: ``readers/gate.py``'s escape test is a regular pattern whose
    plain-Python form (``find`` of a backslash in text full of backslashes) cost 3.7 us a record, 1.0
    on Hyperscan."""
    if _hs is None or default_engine() != "hyperscan":
        return None
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    db.compile(expressions=[pattern], ids=[0], elements=1, flags=[_hs.HS_FLAG_SINGLEMATCH])
    return _scan_function(db)


Marks = Callable[[bytes], tuple[list[int], list[int]]]


def compile_marks(patterns: list[tuple[bytes, bool]]) -> Marks | None:
    """``marks(data) -> (ids, ends)``: for each match, the index of its pattern in ``patterns`` and its
    end offset; ``(pattern, once)`` reports at most once a scan when ``once``. None without Hyperscan.

    Why: an NDJSON line needs both the escape test and where (and how often) ``"EventID"`` occurs;
    two ``find``s over a 1.9 KB OTRF line cost 0.85 us, more than the one Hyperscan pass that
    answers both.
    """
    if _hs is None or default_engine() != "hyperscan":
        return None
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    flags = [_hs.HS_FLAG_SINGLEMATCH if once else 0 for _, once in patterns]
    exprs = [p for p, _ in patterns]
    db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
    scratch = _hs.Scratch(db)
    ids: list[int] = []
    ends: list[int] = []
    add_id, add_end = ids.append, ends.append

    def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
        add_id(pid)
        add_end(end)

    scan_db = db.scan

    def marks(data: bytes) -> tuple[list[int], list[int]]:
        ids.clear()
        ends.clear()
        scan_db(data, on_match, 0, None, scratch)
        return ids, ends

    return marks


def _never(data: bytes) -> bool:
    return False


def _hyperscan(lits: list[bytes]) -> Scan:
    """A block-mode database of literals (``HS_FLAG_SINGLEMATCH``: each literal reports once)."""
    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
    flag = _hs.HS_FLAG_CASELESS | _hs.HS_FLAG_SINGLEMATCH
    db.compile(expressions=lits, ids=list(range(len(lits))), elements=len(lits), flags=[flag] * len(lits), literal=True)
    return _scan_function(db)


def _scan_function(db: Any) -> Scan:
    """``scan(data) -> bool`` on a compiled database.

    The match handler only notes the hit and lets the scan run on: every pattern is compiled with
    ``HS_FLAG_SINGLEMATCH``, so a record calls it once per distinct literal it holds, while stopping
    at the first hit (returning True) makes the binding raise ``ScanTerminated``, which cost more
    (1.6 against 1.2 us on a Security 4663 record holding a literal). ``scan`` is called with
    positional arguments: the binding's keyword parsing cost 0.3 us of a 0.55 us call.
    """
    scratch = _hs.Scratch(db)
    found = [False]

    def on_match(_id: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
        found[0] = True

    scan_db = db.scan

    def scan(data: bytes) -> bool:
        found[0] = False
        scan_db(data, on_match, 0, None, scratch)
        return found[0]

    return scan


def _re2(lits: list[bytes]) -> Scan:
    """``rx.search(data) is not None``, calling RE2 directly when the wheel exposes it: the Python
    wrapper's generator and match object cost more than the scan of a 2 KB record (google-re2 is
    pinned in pyproject.toml, so the private names are stable; the public path is the fallback)."""
    alts = [_escape(b.decode("utf-8")) for b in lits]
    rx = compile_linear("|".join(alts), ignore_case=True)
    regexp = getattr(rx, "_regexp", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
    if regexp is None or anchor is None or not hasattr(regexp, "Match"):
        return lambda data: rx.search(data) is not None
    match = regexp.Match

    def hit(data: bytes) -> bool:
        return match(anchor, data, 0, len(data))[0][0] >= 0

    try:
        if hit(b"x") != (rx.search(b"x") is not None):  # the private call behaves as documented
            raise TypeError
    except Exception:  # noqa: BLE001 - any surprise: the public, slower path
        return lambda data: rx.search(data) is not None
    return hit


def _escape(text: str) -> str:
    """RE2-literal text: letters and digits as they are, anything else as ``\\x{HH}``."""
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)
