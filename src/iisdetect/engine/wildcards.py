"""The one wildcard (glob) implementation: parse ``*``/``?`` patterns, render them for every target.

Why one module: Sigma values (via pySigma), tuning globs (``image: C:\\*\\x.exe``), the Python
evaluator (regex) and the QRadar export (LIKE / MATCHES) all meant the same two wildcards, and four
hand-written copies drifted (escaping, ``**`` collapsing, a bare ``*``). Every caller goes through
:func:`normalise`, so the parts tuple of an ``ir.Glob`` has one canonical form:

- literals are non-empty ``str`` and never adjacent (merged);
- ``ir.STAR`` never repeats (``**`` is ``*``); ``ir.ONE`` is exactly one character.

Semantics (Sigma specification, "Wildcards"): ``*`` any run of characters (empty included), ``?``
exactly one, matched against the whole value; ``\\*``, ``\\?``, ``\\\\`` escape them in Sigma.
Tuning globs have no escapes (a Windows path is full of backslashes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from iisdetect.engine import ir

Parts = tuple[object, ...]


def normalise(parts: Iterable[object]) -> Parts:
    """Merge adjacent literals, drop empty ones, collapse repeated ``STAR``."""
    out: list[object] = []
    for p in parts:
        if p is ir.STAR:
            if not out or out[-1] is not ir.STAR:
                out.append(ir.STAR)
        elif p is ir.ONE:
            out.append(ir.ONE)
        elif isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + p
            else:
                out.append(p)
        else:
            raise TypeError(f"not a glob part: {p!r}")
    return tuple(out)


def parse(pattern: str, escapes: bool = False) -> Parts:
    """``*``/``?`` pattern text -> parts. With ``escapes`` (Sigma), ``\\*`` ``\\?`` ``\\\\`` are literal."""
    parts: list[object] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escapes and ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            parts.append(pattern[i + 1])
            i += 2
            continue
        parts.append(ir.STAR if ch == "*" else ir.ONE if ch == "?" else ch)
        i += 1
    return normalise(parts)


def is_literal(parts: Sequence[object]) -> bool:
    return all(isinstance(p, str) for p in parts)


def to_node(field: str, parts: Sequence[object], cased: bool = False) -> ir.Node:
    """The simplest IR node for a whole-value glob.

    A literal is equality, ``*x``/``x*``/``*x*`` are endswith/startswith/contains. A value of only
    wildcards (``*``, ``?*``) stays a ``Glob``: it matches any *present* value and never a missing
    field (Sigma: a wildcard says something about the value, so there must be one).
    """
    parts = normalise(parts)
    literals = [p for p in parts if isinstance(p, str)]
    if not parts:
        return ir.Str(field, "eq", "", cased)
    if ir.ONE in parts or len(literals) != 1:
        return ir.Glob(field, parts, cased)
    lead, trail = parts[0] is ir.STAR, parts[-1] is ir.STAR
    op = "contains" if lead and trail else "endswith" if lead else "startswith" if trail else "eq"
    return ir.Str(field, op, literals[0], cased)


def str_parts(node: ir.Str) -> Parts:
    """An ``ir.Str`` test as whole-value glob parts (``contains x`` is ``*x*``)."""
    parts: list[object] = [node.value]
    if node.op in ("endswith", "contains"):
        parts.insert(0, ir.STAR)
    if node.op in ("startswith", "contains"):
        parts.append(ir.STAR)
    return normalise(parts)


def to_regex(parts: Sequence[object]) -> str:
    """Parts -> a regex body for a whole-value match (use with ``fullmatch`` and ``re.S``)."""
    out = []
    for p in parts:
        if p is ir.STAR:
            out.append(".*")
        elif p is ir.ONE:
            out.append(".")
        else:
            out.append(re.escape(str(p)))
    return "".join(out)


def to_like(parts: Sequence[object], escape: str = "") -> str | None:
    """Parts -> a SQL/AQL LIKE pattern (``%``, ``_``).

    Without ``escape`` (AQL's LIKE has no escape character) a literal holding ``%``/``_`` gives
    ``None``: such a value needs a regex instead (:func:`to_regex`). With ``escape`` (SQL's
    ``LIKE ... ESCAPE '#'``) the escape character, ``%`` and ``_`` in literals are escaped with it.
    """
    out = []
    for p in parts:
        if p is ir.STAR:
            out.append("%")
        elif p is ir.ONE:
            out.append("_")
        elif escape:
            text = str(p).replace(escape, escape * 2)
            out.append(text.replace("%", escape + "%").replace("_", escape + "_"))
        else:
            if "%" in p or "_" in p:  # type: ignore[operator]
                return None
            out.append(str(p))
    return "".join(out)
