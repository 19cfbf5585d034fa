"""Rule index: an event meets only the rules that can match it, whatever the number of rules.

Why: with SigmaHQ's ~2,900 Windows rules a Sysmon process-creation event was routed (by EventID and
channel, ``detector.Detector``) to ~1,400 rules, and running every one cost ~4-9 ms per event
(issue 18: 433 s where Zircolite took 100 s). Most rules die on their first literal test, so the
index does that part once for all rules:

1. For each rule variant, :func:`necessary` derives from the IR a set of *atoms* (field, op,
   lowered literal) of which at least one must hold for the condition to hold: ``And`` keeps its
   most selective child, ``Or`` unions its children, and anything the index cannot decide exactly
   (``Not``, regexes, globs, ``null``, cidr, fieldref, time windows, the unnamed ``Data`` values)
   gives no constraint, which puts the rule on the always-evaluated list.
2. Per pool (the rules one (EventID, channel, provider) reaches) the atoms are grouped by field:
   each field is read and lowered once per event, its ``eq`` atoms are one dict lookup, and its
   ``startswith``/``endswith``/``contains`` atoms are one RE2 multi-pattern scan (``re2.Set``,
   linear in the value, independent of the number of patterns).
3. Only the candidates (rules with an atom that held, plus the always list) run their full
   compiled predicate, in pool order: the index only skips rules that cannot match, it never
   decides a match, so the result is exactly the unindexed one (tests/engine/test_index.py
   compares both, and an independent IR interpreter, over the corpus and SigmaHQ's suite).

Iteration order is deterministic: candidate positions are ints (their hash is their value, not
``PYTHONHASHSEED``-dependent) and sorted before evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import re2

from iisdetect.engine import ir, wildcards
from iisdetect.model.event import MESSAGE_FIELD, MULTI_FIELD, SYSTEM_FIELDS

#: (field key, op, lowered literal); the field key is ``field`` or ``field@derivation``
Atom = tuple[str, str, str]
Getter = Callable[[Any], str | None]

#: RE2 memory budget per multi-pattern scan; when it is not enough the scan reports failure and every
#: rule of that field becomes a candidate (see ``_FieldScan``), so a budget can cost time, never a match
_MAX_MEM = 64 << 20


def field_key(field: str, derivations: dict[str, str]) -> str:
    how = derivations.get(field)
    return f"{field}@{how}" if how else field


def necessary(node: ir.Node, derivations: dict[str, str]) -> tuple[Atom, ...] | None:
    """Atoms of which one must hold whenever ``node`` holds, or ``None`` (no usable constraint).

    ``()`` means the node can never hold (``Const(False)``). ``derivations`` maps a field the source
    computes to its derivation name: the same field name computed two ways is two keys.
    """
    if isinstance(node, ir.Str):
        if node.field == MULTI_FIELD and MULTI_FIELD not in derivations:
            return None  # any of several values: not one lowered value
        if node.cased and not node.value.isascii():
            # ``str.lower`` is context-dependent for a few letters (final sigma), so a cased
            # non-ASCII match need not imply the lowered one; ASCII lowers letter by letter
            return None
        return ((field_key(node.field, derivations), node.op, node.value.lower()),)
    if isinstance(node, ir.Num):
        if node.field == "EventID" or (node.field == MULTI_FIELD and MULTI_FIELD not in derivations):
            return None  # EventID is routed before the index; Data is several values
        key = field_key(node.field, derivations)
        # the evaluator accepts only canonical decimal text (``-?(0|[1-9][0-9]*)``), so the value is
        # exactly str(n) (and "-0" for 0)
        forms = (str(node.value), "-0") if node.value == 0 else (str(node.value),)
        return tuple((key, "eq", f) for f in forms)
    if isinstance(node, ir.Const):
        return None if node.value else ()
    if isinstance(node, ir.Or):
        out: list[Atom] = []
        for item in node.items:
            sub = necessary(item, derivations)
            if sub is None:
                return None
            for atom in sub:
                if atom not in out:
                    out.append(atom)
        return tuple(out)
    if isinstance(node, ir.And):
        best: tuple[Atom, ...] | None = None
        for item in node.items:
            sub = necessary(item, derivations)
            if sub is None:
                continue
            if best is None or _score(sub) > _score(best):
                best = sub
        return best
    if isinstance(node, ir.Regex | ir.Glob):
        if node.field == MULTI_FIELD and MULTI_FIELD not in derivations:
            return None
        # the pattern itself is the atom: all regexes of a field run as one RE2 set scan on the raw
        # value, with the options the evaluator uses (``linear_re.linear_test``)
        if isinstance(node, ir.Regex):
            op, pattern = ("re_i" if node.ignore_case else "re"), node.pattern
        else:
            op, pattern = ("glob" if node.cased else "glob_i"), f"^(?:{wildcards.to_regex(node.parts)})$"
        return ((field_key(node.field, derivations), op, pattern),)
    return None  # Not, Null, Cidr, FieldRef, TimeWindow


def constraint(node: ir.Node, derivations: dict[str, str], most: int = 2) -> list[tuple[Atom, ...]]:
    """Up to ``most`` atom groups that must *all* have an atom holding for ``node`` to hold.

    An ``And``'s conjuncts each give a group (:func:`necessary`); the most selective are kept, so a
    rule on ``Image|endswith: \\cmd.exe`` and ``CommandLine|contains: assoc`` is a candidate only
    for cmd.exe events whose command line holds ``assoc``. ``[]``: no constraint (always evaluated).
    """
    items: list[ir.Node] = [node]
    while len(items) == 1 and isinstance(items[0], ir.And):
        items = list(items[0].items)
    flat: list[ir.Node] = []
    for item in items:  # nested Ands are conjuncts too
        stack = [item]
        while stack:
            n = stack.pop()
            if isinstance(n, ir.And):
                stack.extend(reversed(n.items))
            else:
                flat.append(n)
    groups = [g for g in (necessary(n, derivations) for n in flat) if g is not None]
    if any(not g for g in groups):
        return [()]  # a conjunct that never holds: so does the whole
    groups.sort(key=_score, reverse=True)  # stable: ties keep condition order
    out: list[tuple[Atom, ...]] = []
    for g in groups:
        if g not in out:
            out.append(g)
        if len(out) == most:
            break
    return out


_OP_BONUS = {"eq": 4, "startswith": 2, "endswith": 2, "contains": 0}
#: RE2 options (case-insensitive, dot matches newline) of each pattern atom kind
_PATTERN_OPS = {"re": (False, False), "re_i": (True, False), "glob": (False, True), "glob_i": (True, True)}


def _score(atoms: tuple[Atom, ...]) -> tuple[int, int]:
    """Higher is more selective: the weakest atom's literal length (eq counts more; a pattern is
    scored like a 2-character literal: it costs a scan and is often loose), then fewer atoms."""
    if not atoms:
        return (1 << 30, 0)  # never true: the best constraint there is
    weakest = min(2 if op in _PATTERN_OPS else len(lit) + _OP_BONUS[op] for _, op, lit in atoms)
    return (weakest, -len(atoms))


def _pattern(op: str, literal: str) -> bytes:
    """A Latin-1 RE2 pattern matching ``literal``'s UTF-8 bytes, anchored as ``op`` says."""
    body = b"".join(b"\\x%02x" % b for b in literal.encode("utf-8", "surrogatepass"))
    if op == "startswith":
        return b"^" + body
    if op == "endswith":
        return body + b"$"
    return body


Scan = Callable[[bytes], "list[int] | None"]


def _build_set(patterns: list[bytes], latin1: bool, ignore_case: bool = False, dotall: bool = False) -> Scan | None:
    """One RE2 set over ``patterns``; pattern 0 is an empty sentinel that matches every text, so a
    result without it means RE2 gave up (DFA out of memory). ``None`` if RE2 refuses the set."""
    opts = re2.Options()
    if latin1:
        opts.encoding = re2.Options.Encoding.LATIN1  # byte-wise: UTF-8 substrings are str substrings
    opts.case_sensitive = not ignore_case
    opts.dot_nl = dotall
    opts.max_mem = _MAX_MEM
    opts.log_errors = False
    rset = re2.Set.SearchSet(opts)
    try:
        rset.Add(b"")
        for pat in patterns:
            rset.Add(pat)
        rset.Compile()
    except re2.error:
        return None
    inner = getattr(rset, "_set", None)  # the C object: no wrapper frame per call (bytes in, list out)
    return inner.Match if inner is not None else rset.Match


#: one scan: (matcher or None, group ids per pattern index, True for the lowered value, False for raw)
_ScanSpec = tuple["Scan | None", list[tuple[int, ...]], bool]


class _FieldScan:
    """One field of one pool: eq atoms as a dict of lowered values, the other literal atoms as one
    RE2 set scan over the lowered value, and patterns as one set scan per option kind over the raw
    value. A scan that fails (or a value RE2 cannot take) makes every group of the field a hit."""

    __slots__ = ("get", "eq", "scans", "every")

    def __init__(self, get: Getter, atoms: dict[tuple[str, str], list[int]]) -> None:
        self.get = get
        self.eq: dict[str, tuple[int, ...]] = {}
        self.every = tuple(sorted({g for groups in atoms.values() for g in groups}))
        lits: list[bytes] = []
        lit_groups: list[tuple[int, ...]] = [()]
        kinds: dict[str, tuple[list[bytes], list[tuple[int, ...]]]] = {}
        for (op, lit), groups in atoms.items():
            if op == "eq":
                self.eq[lit] = tuple(groups)
            elif op in _PATTERN_OPS:
                pats, ids = kinds.setdefault(op, ([], [()]))
                pats.append(lit.encode("utf-8"))
                ids.append(tuple(groups))
            else:
                lits.append(_pattern(op, lit))
                lit_groups.append(tuple(groups))
        self.scans: list[_ScanSpec] = []
        if lits:
            self.scans.append((_build_set(lits, latin1=True), lit_groups, True))
        for op in sorted(kinds):
            pats, ids = kinds[op]
            self.scans.append((_build_set(pats, False, *_PATTERN_OPS[op]), ids, False))


class PoolIndex:
    """The entries one pool holds, indexed by field; :meth:`candidates` is the hot path.

    Entry ``p``'s constraint groups have ids ``2p`` and ``2p + 1``; an entry is a candidate when
    every one of its groups had an atom hold (``two[p]`` says whether it has a second group).
    """

    __slots__ = ("entries", "always", "fields", "two", "_plan")

    def __init__(
        self, entries: Sequence[Any], constraints: Sequence[list[tuple[Atom, ...]]], getters: dict[str, Getter]
    ) -> None:
        self.entries = list(entries)
        self.always: list[int] = []
        self.two = [len(c) == 2 for c in constraints]
        by_field: dict[str, dict[tuple[str, str], list[int]]] = {}
        for pos, groups in enumerate(constraints):
            if not groups:
                self.always.append(pos)
                continue
            for k, group in enumerate(groups[:2]):
                for key, op, lit in group:
                    ids = by_field.setdefault(key, {}).setdefault((op, lit), [])
                    if 2 * pos + k not in ids:
                        ids.append(2 * pos + k)
        self.fields = [_FieldScan(getters[key], by_field[key]) for key in sorted(by_field)]
        #: the hot loop's view: (EventData name or None, getter, eq dict or None, scans, every group)
        self._plan = tuple(
            (_plain(key), fs.get, fs.eq or None, tuple(fs.scans), fs.every)
            for key, fs in zip(sorted(by_field), self.fields, strict=True)
        )

    def candidates(self, event: Any) -> list[int]:
        """Positions of the entries that may match ``event``, ascending, without repeats."""
        found: list[int] = []
        data_get = event.data.get
        for name, get, eq, scans, every in self._plan:
            v = data_get(name) if name is not None else get(event)
            if v is None:
                continue
            lv = v.lower()
            if eq is not None:
                hit = eq.get(lv)
                if hit:
                    found += hit
            for scan, by_pattern, lowered in scans:
                try:
                    text = lv.encode("utf-8", "surrogatepass") if lowered else v.encode("utf-8")
                    ids = scan(text) if scan is not None else None
                except UnicodeEncodeError:  # a lone surrogate: RE2 cannot take it, the predicates decide
                    ids = None
                if not ids or (ids[0] != 0 and 0 not in ids):
                    found += every  # no set, or RE2 gave up: every group of the field holds
                    continue
                for i in ids:
                    found += by_pattern[i]
        if not found:
            return self.always
        hit = set(found)
        two = self.two
        out = list(self.always)
        for g in hit:
            p = g >> 1
            if not two[p] or (g & 1 and g - 1 in hit):  # two groups: both held (counted from the second)
                out.append(p)
        out.sort()
        return out


def _plain(key: str) -> str | None:
    """The EventData name a field key reads directly (no System field, message or derivation)."""
    if "@" in key or key in SYSTEM_FIELDS or key == MESSAGE_FIELD:
        return None
    return key
