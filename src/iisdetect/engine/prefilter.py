"""What a hunt may skip before decoding a record: EventID/channel routing and a literal prefilter.

Why: decoding a record's JSON and building its :class:`~iisdetect.model.event.Event` costs more
than parsing it, and most records of a real log can match no rule. A :class:`RecordGate` is compiled
once per hunt from the same rule IR the evaluator runs, and answers two questions on the raw record
text (the JSON string pyevtx renders, or an NDJSON line):

* ``wanted(event_id, channel)``: could any rule variant admit this EventID and channel at all?
  (Superset of the evaluator's own dispatch: a variant that names providers admits any channel,
  since the provider is not read from the raw text.)
* ``may_match(event_id, raw)``: does the raw text hold at least one of the literals of which one
  must appear for any rule admitting that EventID to match? The literal sets come from the IR:
  a string test needs its value, ``And`` needs its most selective child, ``Or`` the union of its
  children; ``Not``, regexes, numbers, CIDR, null, field references, time windows and fields the
  engine computes (``Source.derived``) give no constraint, and then records of that EventID are
  never skipped. The test is one case-insensitive RE2 scan (linear time) over the raw text.

Exactness (docs/hunt.md, "Skipping records before decoding"): a literal is used only where its
raw appearance is guaranteed whatever shape the value had in the record. Raw JSON escapes a
backslash as ``\\\\``, so literals are searched in their JSON-escaped form; a record holding a
``\\u`` or ``\\/`` escape (which could spell any character) is always decoded; a record holding
U+0130 or U+212A (whose Python ``lower()`` yields ASCII ``i``/``k``) is always decoded; literals
that the normalisers could assemble rather than copy (non-ASCII, containing ``"`` ``,`` ``{`` ``}``
``[`` ``]`` ``:``, a control character, two backslashes, a backslash before ``t n r b f u`` or at the
end, or made only of number characters, which ``1e3`` -> ``"1000.0"`` rewrites) give no constraint
as a whole; their longest safe piece (:func:`safe_piece`) is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from iisdetect.engine import ir
from iisdetect.engine.evaluate import file_by_event_id
from iisdetect.engine.literal_scan import compile_literals
from iisdetect.model.event import SYSTEM_FIELDS

#: No constraint: a record can never be skipped on literals.
ANY = None
Need = frozenset[str] | None

#: System fields whose Event value is the raw text of the record (others are rewritten: times
#: normalised, EventID/EventRecordID re-rendered from integers).
_RAW_SYSTEM = frozenset({"Channel", "Provider_Name", "Provider", "Computer", "UserID"})
_NUMBERISH = frozenset("0123456789.eE+-infaINFA")
_UNSAFE_CHARS = frozenset('",{}[]')
_BAD_ESCAPE = re.compile(r"\\\\|\\[tnrbfu]|\\$")
#: UTF-8 of U+0130 and U+212A, the two non-ASCII characters Python's ``lower()`` turns into ASCII
#: (``i`` + U+0307, ``k``): a literal ``kill`` matches ``\u212aill`` in the evaluator, so a record holding
#: one is decoded. Part of the scan (one pass), not a separate ``in`` test (1.2-1.6 us a record each).
FOLDS_TO_ASCII = (b"\xc4\xb0", b"\xe2\x84\xaa")
#: Fewer literals than this are a cheap scan; beyond it the scan is still linear but large.
MAX_LITERALS = 4000
#: Text nearly every Windows record holds (system paths, channel prefixes, the SYSTEM account): a
#: literal found inside it selects nothing, so an ``And`` (or a regex) keys on another literal when it
#: has one. ``\\windows\\sys`` (from a System32 regex) would otherwise beat ``.dll`` by length, and
#: then every Sysmon 11 record naming a System32 image would be decoded. Only the choice between
#: constraints changes; each is exact on its own.
COMMON_TEXT = (
    "c:\\windows\\system32\\", "c:\\windows\\syswow64\\", "c:\\program files (x86)\\",
    "microsoft-windows-", "nt authority\\system",
)  # fmt: skip


def common(literal: str) -> bool:
    """``literal`` (lowered) lies inside :data:`COMMON_TEXT`, so it is a poor key to skip records on."""
    return any(literal in text for text in COMMON_TEXT)


def safe_literal(value: str) -> str | None:
    """The lowered literal if its raw appearance is guaranteed in any JSON shape, else None."""
    if not value or not value.isascii():
        return None
    low = value.lower()
    if any(c in _UNSAFE_CHARS or c < " " or c == "\x7f" for c in low):
        return None
    if set(low) <= _NUMBERISH or _BAD_ESCAPE.search(low) or low[0] == ":":
        return None  # a ':' inside is safe: a re-serialised ':' separator follows a '"'
    return low


#: Where :func:`safe_piece` cuts a literal: the characters and backslash sequences :func:`safe_literal` refuses.
_CUT = re.compile(r'[",{}\[\]\x00-\x1f\x7f-\U0010ffff]|\\(?=[\\tnrbfu]|$)')
#: A shorter piece is not worth a scan hit on every record holding it.
MIN_PIECE = 3


def safe_piece(value: str) -> str | None:
    """The longest safe substring of a literal :func:`safe_literal` refuses, or None.

    Why: ``\\inetsrv\\config\\redirection.config`` is refused as a whole (a backslash before ``r``
    could be a re-serialised escape), which left every Sysmon 11 record undecidable. A record whose
    value holds the literal holds each of its substrings, so a safe substring is an exact, weaker
    constraint: the literal is cut at what is unsafe (the backslash of a ``\\r``, a quote, a
    non-ASCII character...) and the longest piece that :func:`safe_literal` accepts is kept.
    """
    best: str | None = None
    for piece in _CUT.split(value.lower()):
        piece = piece.lstrip(":")
        if len(piece) >= MIN_PIECE and (best is None or len(piece) > len(best)):
            lit = safe_literal(piece)
            if lit is not None:
                best = lit
    return best


def json_form(literal: str) -> str:
    """The literal as it appears inside a JSON string (only ``\\`` needs escaping once the unsafe
    characters are excluded)."""
    return literal.replace("\\", "\\\\")


def need(node: ir.Node, derived: frozenset[str] = frozenset()) -> Need:
    """Literals of which one must appear in the record for ``node`` to hold (None: no constraint)."""
    if isinstance(node, ir.Str):
        return _field_need(node.field, (node.value,), derived)
    if isinstance(node, ir.Glob):
        lits = [p for p in node.parts if isinstance(p, str)]
        if not lits:
            return ANY
        best: Need = ANY
        for lit in lits:  # every literal of a glob must appear: keep the most selective one
            best = _better(best, _field_need(node.field, (lit,), derived))
        return best
    if isinstance(node, ir.Const):
        return ANY if node.value else frozenset()
    if isinstance(node, ir.And):
        best = ANY
        for item in node.items:
            n = need(item, derived)
            if n is not None and not n:
                return n  # a conjunct that can never hold
            best = _better(best, n)
        return best
    if isinstance(node, ir.Or):
        out: set[str] = set()
        for item in node.items:
            n = need(item, derived)
            if n is None:
                return ANY
            out |= n
        return frozenset(out)
    if isinstance(node, ir.Regex):
        return _field_need(node.field, regex_literals(node.pattern), derived, any_of=True)
    return ANY  # Not, Num, Null, Cidr, FieldRef, TimeWindow


@lru_cache(maxsize=4096)
def regex_literals(pattern: str) -> tuple[str, ...]:
    """Literal runs every match of ``pattern`` contains (its top-level sequence; none under a
    top-level ``|``, a group or a repeat). Parsed with Python's own regex parser; a pattern it
    cannot parse (RE2-only syntax) yields none."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        items = _parser.parse(pattern).data
    except Exception:  # noqa: BLE001 - any parse problem: no constraint
        return ()
    runs, cur = [], []
    for op, arg in items:
        if str(op) == "LITERAL":
            cur.append(chr(arg))
            continue
        if cur:
            runs.append("".join(cur))
        cur = []
    if cur:
        runs.append("".join(cur))
    return tuple(runs)


def _field_need(field: str, values: Iterable[str], derived: frozenset[str], any_of: bool = False) -> Need:
    """``values`` OR-ed (all must be safe); with ``any_of``, values that must all appear: the best safe one."""
    if field in derived or (field in SYSTEM_FIELDS and field not in _RAW_SYSTEM):
        return ANY
    out = set()
    best: str | None = None
    for v in values:
        lit = safe_literal(v) or safe_piece(v)
        if any_of:
            if lit is not None and (best is None or (common(best), -len(best)) > (common(lit), -len(lit))):
                best = lit
            continue
        if lit is None:
            return ANY
        out.add(lit)
    if any_of:
        return ANY if best is None else frozenset({best})
    return frozenset(out)


def _better(a: Need, b: Need) -> Need:
    """The more selective of two needs: none of its literals common text, then fewer literals, then
    longer shortest literal."""
    if a is None:
        return b
    if b is None:
        return a
    ka = (any(map(common, a)), len(a), -min(map(len, a), default=0))
    kb = (any(map(common, b)), len(b), -min(map(len, b), default=0))
    return a if ka <= kb else b


class _Entry:
    """One rule variant as routing sees it; its literal need is computed on first use (a hunt over a
    few EventIDs never parses the regexes of the others)."""

    __slots__ = ("channels", "providers", "any_channel", "condition", "derived", "_need", "done")

    def __init__(
        self, channels: frozenset[str], providers: frozenset[str], condition: ir.Node, derived: frozenset[str]
    ) -> None:
        self.channels, self.providers, self.any_channel = channels, providers, bool(providers)
        self.condition, self.derived = condition, derived
        self._need: Need = ANY
        self.done = False

    @property
    def need(self) -> Need:
        if not self.done:
            self._need, self.done = need(self.condition, self.derived), True
        return self._need


class RecordGate:
    """Routing and literal prefilter for one ruleset (build once per hunt, per worker)."""

    def __init__(self, rules: Iterable[ir.CompiledRule], *, prefilter: bool = True) -> None:
        self._by_id: dict[int, list[_Entry]] = {}
        self._any: list[_Entry] = []
        self.prefilter = prefilter
        for rule in rules:
            for variant in rule.variants:
                src = variant.source
                derived = frozenset(name for name, _ in src.derived)
                entry = _Entry(
                    frozenset(c.lower() for c in src.channels),
                    frozenset(p.lower() for p in src.providers),
                    variant.condition,
                    derived,
                )
                file_by_event_id(self._by_id, self._any, variant, entry)
        self._wanted: dict[tuple[int, str | None, str | None], bool] = {}
        self._scanners: dict[int | None, Any] = {}
        self._channels: dict[int, bool | frozenset[str]] = {}
        #: ``event_id -> (channels(event_id), scanner(event_id))``, filled by :meth:`plan`: the
        #: readers' hot path reads this dict directly (one lookup a record instead of two calls).
        self.plans: dict[int | None, tuple[bool | frozenset[str], Any]] = {}
        #: ``(len(plans) when built, routed_away(), literal_scans())``: views of :attr:`plans`, rebuilt together
        self._views: tuple[int, frozenset[int | None], dict[int | None, Any]] = (0, frozenset(), {})

    def wanted(self, event_id: int, channel: str | None, provider: str | None = None) -> bool:
        """Could a rule admit this record (the evaluator's test: channel OR provider, and EventID)?

        ``channel`` None: not known, any channel. ``provider`` None: not known, so a variant that
        names providers admits any channel.
        """
        key = (event_id, channel, provider)
        hit = self._wanted.get(key)
        if hit is None:
            entries = self._by_id.get(event_id, []) + self._any
            if channel is None:
                hit = bool(entries)
            else:
                low = channel.lower()
                prov = None if provider is None else provider.lower()
                hit = any(
                    low in e.channels or (e.any_channel and (prov is None or prov in e.providers)) for e in entries
                )
            if len(self._wanted) < 100_000:  # bounded: hostile input may vary channels forever
                self._wanted[key] = hit
        return hit

    def channels(self, event_id: int) -> bool | frozenset[str]:
        """For ``event_id``: True (a rule admits any channel), else the lowered channels some rule
        admits (empty: no rule takes this EventID at all). Lets readers skip reading the channel."""
        hit = self._channels.get(event_id)
        if hit is None:
            entries = self._by_id.get(event_id, []) + self._any
            anyc = any(e.any_channel for e in entries)
            hit = True if anyc else frozenset(c for e in entries for c in e.channels)
            if len(self._channels) < 100_000:
                self._channels[event_id] = hit
        return hit

    def plan(self, event_id: int | None) -> tuple[bool | frozenset[str], Any]:
        """``(channels, scanner)`` for ``event_id`` (``channels`` is True for None), kept in :attr:`plans`.
        An EventID no rule takes gets no scanner: its records are routed away before any scan (a
        hostile file naming thousands of EventIDs would otherwise compile a database for each)."""
        channels = True if event_id is None else self.channels(event_id)
        plan = (channels, self.scanner(event_id) if channels else None)
        if len(self.plans) < 10_000:  # bounded like the caches it combines
            self.plans[event_id] = plan
        return plan

    def routed_away(self) -> frozenset[int | None]:
        """The EventIDs of :attr:`plans` that no rule takes (the readers' block-wide and inlined tests
        skip their records at once); rebuilt only when a plan was added."""
        return self._current_views()[1]

    def literal_scans(self) -> dict[int | None, Any]:
        """``event_id -> scanner`` for the EventIDs of :attr:`plans` some rule takes and whose records a
        literal scan decides: a record whose scan finds nothing is prefiltered whatever its channel
        (the readers' ``_verdict``), so the EVTX reader answers that inline; rebuilt only when a plan
        was added."""
        return self._current_views()[2]

    def _current_views(self) -> tuple[int, frozenset[int | None], dict[int | None, Any]]:
        if self._views[0] != len(self.plans):
            plans = self.plans.items()
            away = frozenset(eid for eid, plan in plans if not plan[0])
            scans = {eid: plan[1] for eid, plan in plans if plan[0] and plan[1] is not None}
            self._views = (len(self.plans), away, scans)
        return self._views

    def scanner(self, event_id: int | None) -> Any:
        """The compiled scan for records of ``event_id`` (None: EventID unknown), or None: decode all."""
        if event_id in self._scanners:
            return self._scanners[event_id]
        scan = None
        if self.prefilter:
            if event_id is None:
                entries = self._any + [e for es in self._by_id.values() for e in es]
            else:
                entries = self._by_id.get(event_id, []) + self._any
            lits: set[str] = set()
            for e in entries:
                if e.need is None:
                    lits = set()
                    break
                lits |= e.need
            else:
                if len(lits) <= MAX_LITERALS:
                    scan = _compile(lits)
        if len(self._scanners) < 10_000:
            self._scanners[event_id] = scan
        return scan


def _compile(literals: set[str]) -> Any:
    """One case-insensitive scan of the literals' JSON forms, as ``hit(utf8_bytes) -> bool``
    (engine/literal_scan.py: Hyperscan where installed, else RE2).

    The scan also hits on :data:`FOLDS_TO_ASCII`, so a record holding one is always decoded; the
    escape hazard (``\\u``) is checked by the reader (readers/gate.py) before the scan. With no
    literal, only those two hit: no rule can take such a record.
    """
    return compile_literals([*(json_form(lit).encode("ascii") for lit in literals), *FOLDS_TO_ASCII])
