"""Python/Sigma regex (search semantics) -> a Lucene regexp (whole-value match), or a reason why not.

Why: Elasticsearch's regexp query, EQL ``regex``/``regex~`` and ES|QL ``RLIKE`` use Lucene's
dialect (ES "Regular expression syntax" docs): the pattern must match the WHOLE value, there are no
anchors, no ``(?:``, no ``\\s``/``\\d``/``\\w``/``\\b``, no look-arounds and no inline flags; ``@ & ~ < > #``
are operators and must be escaped. pySigma passes Python patterns through unchanged, which ES then
rejects or misreads (reference/exports.md 3).

The pattern is parsed with Python's own regex parser (``re._parser``) and re-emitted, so what is
translated is exactly what Python means. Search semantics become ``.*P.*``; a leading ``^`` drops
the ``.*`` (also per alternative of a leading ``(?:^|X)``), a trailing ``$`` likewise, and a trailing
``\\b`` after a word character becomes ``([^A-Za-z0-9_].*)?``. Anything else anchored is refused.
"""

from __future__ import annotations

import re
from re import _constants as C  # noqa: N812 - the parser's opcode names
from re import _parser as P  # noqa: N812

_RESERVED = set('.?+*|{}[]()"\\#@&<>~')
_CATS = {C.CATEGORY_DIGIT: "0-9", C.CATEGORY_WORD: "A-Za-z0-9_", C.CATEGORY_SPACE: " \t\n\r\f\v"}


class Untranslatable(ValueError):
    pass


def _lit(code: int, in_class: bool = False) -> str:
    ch = chr(code)
    if ch in _RESERVED or (in_class and ch in "^-]"):
        return "\\" + ch
    return ch


def _class(items: list) -> str:
    out, neg = [], False
    for op, av in items:
        if op is C.NEGATE:
            neg = True
        elif op is C.LITERAL:
            out.append(_lit(av, True))
        elif op is C.RANGE:
            out.append(f"{_lit(av[0], True)}-{_lit(av[1], True)}")
        elif op is C.CATEGORY and av in _CATS:
            out.append(_CATS[av])
        else:
            raise Untranslatable(f"character-class item {op} {av}")
    return "[" + ("^" if neg else "") + "".join(out) + "]"


def _emit(items: list) -> str:  # noqa: C901 - one branch per opcode
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(_lit(av))
        elif op is C.NOT_LITERAL:
            out.append("[^" + _lit(av, True) + "]")
        elif op is C.ANY:
            out.append(".")
        elif op is C.IN:
            out.append(_class(av))
        elif op is C.CATEGORY:
            if av not in _CATS:
                raise Untranslatable(f"class {av}")
            out.append("[" + _CATS[av] + "]")
        elif op is C.BRANCH:
            out.append("(" + "|".join(_emit(list(alt)) for alt in av[1]) + ")")
        elif op is C.SUBPATTERN:
            if av[1] or av[2]:
                raise Untranslatable("inline flags")
            out.append("(" + _emit(list(av[3])) + ")")
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            inner = _emit(list(sub))
            if len(list(sub)) != 1 or list(sub)[0][0] in (C.BRANCH,):
                inner = "(" + inner + ")"
            if (lo, hi) == (0, C.MAXREPEAT):
                out.append(inner + "*")
            elif (lo, hi) == (1, C.MAXREPEAT):
                out.append(inner + "+")
            elif (lo, hi) == (0, 1):
                out.append(inner + "?")
            else:
                out.append(inner + "{" + str(lo) + ("," + ("" if hi == C.MAXREPEAT else str(hi))) + "}")
        elif op is C.AT:
            raise Untranslatable("an anchor or \\b inside the pattern")
        else:
            raise Untranslatable(f"{op}".lower())
    return "".join(out)


def _alts(node: tuple) -> list[list] | None:
    """The alternatives of a group ``(?:a|b)`` (a BRANCH, or an IN from single-char alternatives)."""
    op, av = node
    if op is C.BRANCH:  # a non-capturing group is inlined by the parser
        return [list(a) for a in av[1]]
    if op is C.SUBPATTERN and not av[1] and not av[2]:
        inner = list(av[3])
        if len(inner) == 1 and inner[0][0] is C.BRANCH:
            return [list(a) for a in inner[0][1][1]]
    return None


def _is(items: list, at: object) -> bool:
    return len(items) == 1 and items[0] == (C.AT, at)


def to_lucene(pattern: str) -> str:
    """The whole-value Lucene regexp equivalent to searching ``pattern``; raises Untranslatable."""
    try:
        parsed = P.parse(pattern)
    except re.error as exc:
        raise Untranslatable(str(exc)) from exc
    if parsed.state.flags & ~(re.UNICODE | re.ASCII):
        raise Untranslatable("inline flags")
    items = list(parsed)
    lead, trail = ".*", ".*"
    if items and items[0] == (C.AT, C.AT_BEGINNING):
        lead, items = "", items[1:]
    elif items and (alts := _alts(items[0])) and any(_is(a, C.AT_BEGINNING) for a in alts):
        lead = "(" + "|".join(".*" + _emit(a) for a in alts if not _is(a, C.AT_BEGINNING)) + ")?"
        items = items[1:]
    if items and items[-1] == (C.AT, C.AT_END):
        trail, items = "", items[:-1]
    elif items and (alts := _alts(items[-1])) and any(_is(a, C.AT_END) for a in alts):
        trail = "(" + "|".join(_emit(a) + ".*" for a in alts if not _is(a, C.AT_END)) + ")?"
        items = items[:-1]
    elif items and items[-1] == (C.AT, C.AT_BOUNDARY) and len(items) > 1 and items[-2][0] is C.LITERAL:
        if not re.match(r"\w", chr(items[-2][1])):
            raise Untranslatable("\\b after a non-word character")
        trail, items = "([^A-Za-z0-9_].*)?", items[:-1]
    return lead + _emit(items) + trail
