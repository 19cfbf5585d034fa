"""An evaluator of the SPL subset ``export/splunk.py`` emits, over Splunk-shaped events (dicts).

Why: no SPL parser or evaluator installs offline (reference/exports.md 4: ``splparser`` is
Python 2, npm has none), so the tests parse the emitted text with these rules taken from the Splunk
docs and run it: the ``search`` part with search-time semantics (implicit AND, ``OR`` binding
tighter than it, case-insensitive ``field="value"`` with ``*`` wildcards, ``field IN (..)``) and the
``| where`` part with eval semantics (NOT > AND > OR, NULL for a missing field, three-valued logic,
``where`` keeps only true). ``match`` uses Python ``re`` in place of PCRE: the patterns' dialect is
not what this proves. Anything outside the subset raises, so the renderer cannot drift silently.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|>=|<=|[=<>()+\-*/%,|])"""
    r"""|(?P<qid>'(?:[^'\\]|\\.)*')|(?P<word>[A-Za-z_][A-Za-z0-9_.:\-]*(?:\*)?|\*))"""
)


def tokenize(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"SPL subset: cannot read {text[pos : pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        elif kind == "qid":
            kind, val = "word", re.sub(r"\\(.)", r"\1", val[1:-1])
        elif kind == "num":
            val = float(val)
        out.append((kind, val))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, Any]:
        return self.t[self.i + k] if self.i + k < len(self.t) else ("eof", None)

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.peek()
        if (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise ValueError(f"SPL subset: expected {value or kind}, got {tok}")
        self.i += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        return tok[0] == kind and (value is None or tok[1] == value)

    # ---- search: expr := group+ (implicit AND); group := atom (OR atom)* ----
    def search(self, stop: set[str]) -> tuple:
        items = []
        while not self.at("eof") and not (self.peek()[0] == "op" and self.peek()[1] in stop):
            alts = [self.s_atom()]
            while self.at("word", "OR"):
                self.take()
                alts.append(self.s_atom())
            items.append(("or", alts) if len(alts) > 1 else alts[0])
        return ("and", items)

    def s_atom(self) -> tuple:
        if self.at("op", "("):
            self.take()
            inner = self.search({")"})
            self.take("op", ")")
            return inner
        name = self.take("word")[1]
        if self.at("word", "IN"):
            self.take()
            self.take("op", "(")
            vals = [self.take()[1]]
            while self.at("op", ","):
                self.take()
                vals.append(self.take()[1])
            self.take("op", ")")
            return ("in", name, [_num_text(v) for v in vals])
        self.take("op", "=")
        kind, val = self.take()
        return ("eq", name, val if kind != "num" else _num_text(val))

    # ---- where (eval) ----
    def expr(self) -> tuple:
        node = self.and_()
        while self.at("word", "OR"):
            self.take()
            node = ("OR", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.not_()
        while self.at("word", "AND"):
            self.take()
            node = ("AND", node, self.not_())
        return node

    def not_(self) -> tuple:
        if self.at("word", "NOT"):
            self.take()
            return ("NOT", self.not_())
        return self.cmp()

    def cmp(self) -> tuple:
        left = self.arith()
        if self.peek()[0] == "op" and self.peek()[1] in ("==", "=", "!=", ">=", "<=", ">", "<"):
            op = self.take()[1]
            return ("cmp", op, left, self.arith())
        return left

    def arith(self) -> tuple:
        node = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            node = ("bin", self.take()[1], node, self.term())
        return node

    def term(self) -> tuple:
        node = self.primary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            node = ("bin", self.take()[1], node, self.primary())
        return node

    def primary(self) -> tuple:
        kind, val = self.peek()
        if kind == "op" and val == "(":
            self.take()
            node = self.expr()
            self.take("op", ")")
            return node
        if kind in ("str", "num"):
            self.take()
            return ("lit", val)
        if kind == "op" and val == "-":  # unary minus: substr(x, -len(y))
            self.take()
            return ("bin", "-", ("lit", "0"), self.primary())
        if kind == "word":
            self.take()
            if self.at("op", "("):
                self.take()
                args = []
                if not self.at("op", ")"):
                    args.append(self.expr())
                    while self.at("op", ","):
                        self.take()
                        args.append(self.expr())
                self.take("op", ")")
                return ("call", val, args)
            return ("field", val)
        raise ValueError(f"SPL subset: unexpected {val!r}")


def _num_text(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _wild(pattern: str, value: str) -> bool:
    rx = ".*".join(re.escape(p) for p in pattern.split("*"))
    return re.fullmatch(rx, value, re.I | re.S) is not None


def _search(node: tuple, ev: dict[str, Any]) -> bool:
    kind = node[0]
    if kind == "and":
        return all(_search(n, ev) for n in node[1])
    if kind == "or":
        return any(_search(n, ev) for n in node[1])
    value = ev.get(node[1])
    if node[1] == "index":
        return True
    if value is None:
        return False
    if kind == "in":
        return any(_wild(p, str(value)) for p in node[2])
    return _wild(str(node[2]), str(value))


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(v)
    except ValueError:
        return None


def _eval(node: tuple, ev: dict[str, Any]) -> Any:  # noqa: C901 - one branch per construct
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "field":
        return ev.get(node[1])
    if kind == "NOT":
        v = _eval(node[1], ev)
        return None if v is None else not v
    if kind in ("AND", "OR"):
        a, b = _eval(node[1], ev), _eval(node[2], ev)
        if kind == "AND":
            return False if a is False or b is False else (None if a is None or b is None else True)
        return True if a is True or b is True else (None if a is None or b is None else False)
    if kind == "bin":
        a, b = _num(_eval(node[2], ev)), _num(_eval(node[3], ev))
        if a is None or b is None:
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "%": math.fmod(a, b)}[node[1]]
    if kind == "cmp":
        a, b = _eval(node[2], ev), _eval(node[3], ev)
        if a is None or b is None:
            return None
        if _num(a) is not None and _num(b) is not None:
            a, b = _num(a), _num(b)
        else:
            a, b = str(a), str(b)
        op = node[1]
        return {"==": a == b, "=": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
    if kind == "call":
        return _call(node[1], [_eval(a, ev) for a in node[2]])
    raise ValueError(f"SPL subset: {node!r}")


def _call(name: str, a: list[Any]) -> Any:
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "isnull":
        return a[0] is None
    if name == "isnotnull":
        return a[0] is not None
    if a and a[0] is None and name != "in":
        return None
    if name == "lower":
        return str(a[0]).lower()
    if name == "len":
        return float(len(str(a[0])))
    if name == "substr":  # 1-based start; a negative start counts from the end (SPL eval functions)
        text, start = str(a[0]), int(_num(a[1]) or 0)
        begin = start - 1 if start > 0 else max(0, len(text) + start)
        return text[begin:] if len(a) < 3 else text[begin : begin + int(_num(a[2]) or 0)]
    if name == "match":
        return re.search(a[1], str(a[0])) is not None
    if name == "tonumber":
        n = _num(a[0])
        return None if n is None else n
    if name == "floor":
        n = _num(a[0])
        return None if n is None else float(math.floor(n))
    if name == "in":
        if a[0] is None:
            return None
        return any(_num(a[0]) == _num(x) if _num(x) is not None else str(a[0]) == str(x) for x in a[1:])
    if name == "cidrmatch":
        try:
            return ipaddress.ip_address(str(a[1])) in ipaddress.ip_network(a[0], strict=False)
        except ValueError:
            return False
    raise ValueError(f"SPL subset: unknown function {name}")


class SplQuery:
    """``search ... | where ...`` parsed once; ``matches(event)`` runs it on one Splunk event dict."""

    def __init__(self, query: str) -> None:
        head, sep, tail = query.partition("\n| where ")
        if not sep:
            raise ValueError("SPL subset: expected 'search ...' then '| where ...'")
        p = _Parser(tokenize(head))
        p.take("word", "search")
        self.search = p.search(set())
        w = _Parser(tokenize(tail))
        self.where = w.expr()
        if not w.at("eof"):
            raise ValueError(f"SPL subset: trailing {w.peek()}")

    def matches(self, ev: dict[str, Any]) -> bool:
        return _search(self.search, ev) and _eval(self.where, ev) is True
