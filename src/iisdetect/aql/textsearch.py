"""``TEXT SEARCH 'search text'``: the Quick Filter syntax, compiled to regex tests on ``payload``.

QRadar answers TEXT SEARCH (and the Log Activity Quick Filter) from a full-text index of payloads
built with Lucene (IBM Security, "QRadar Searches", 2022: "Full text search of event or flow payloads
using the Lucene index engine"). An index of that kind splits the payload into tokens and lower-cases
them, so a term matches a whole token, not a substring: ``admin`` finds ``user=admin,`` but not
``administrator``. The emulator has no index; it reads the search text as Lucene's query parser does
and tests the payload with one RE2 regex per term (DuckDB ``regexp_matches``, case-insensitive):

- a token is a run of letters, digits and ``_`` (:data:`TOKEN`); a term whose first (last) character
  is a token character must start (end) at a token edge. A term with punctuation inside
  (``127.0.0.1``, ``cmd.exe``) matches that exact text at token edges;
- ``*`` stands for any run of token characters, ``?`` for exactly one; a term cannot start with
  one (IBM: "The search term cannot start with a wildcard");
- ``"a phrase"``: its words in order, separated only by non-token characters; inside the quotes
  ``*`` and ``?`` are ordinary characters;
- ``AND`` / ``&&``, ``OR`` / ``||``, ``NOT`` / ``!`` / ``-term`` (upper-case only: IBM "operators must
  be uppercase"), ``+term`` (required), parentheses; terms side by side are joined by AND.
  Precedence: NOT, then AND, then OR. NOT must be ANDed with a term that is not negated
  (IBM: ``Session* AND NOT SessionToken``): Lucene returns nothing for a query of negations alone,
  where plain boolean logic would return almost everything, so the emulator refuses it;
- ``\\`` makes the next character literal (``user\\:admin``, ``\\(x\\)``).

What Lucene has and the emulator does not run is refused by name (:class:`Unsupported`): fuzzy and
proximity ``~``, boosts ``^``, ``field:value``, ranges ``[a TO b]`` / ``{a TO b}`` and ``/regex/``.
Every piece of the search text reaches SQL only inside string literals built by sqlglot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from iisdetect.aql.errors import AqlSyntaxError
from iisdetect.aql.prepass import Unsupported

TOKEN = r"[\pL\pN_]"
NON_TOKEN = r"[^\pL\pN_]"
_START = rf"(?:^|{NON_TOKEN})"
_END = rf"(?:$|{NON_TOKEN})"
_WILD = {"*": TOKEN + "*", "?": TOKEN}
#: Characters Lucene's parser reserves and the emulator refuses, unescaped, with the construct's name.
_REFUSED = {
    "~": "fuzzy or proximity search '~'",
    "^": "boost '^'",
    ":": "field search 'field:value'",
    "[": "range search '[a TO b]'",
    "]": "range search '[a TO b]'",
    "{": "range search '{a TO b}'",
    "}": "range search '{a TO b}'",
}
_ENDS_TERM = set(' \t\r\n\f\v()"!')
_OPS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}


def _tok_char(c: str) -> bool:
    return c.isalnum() or c == "_"


@dataclass(frozen=True)
class Term:
    """``parts``: one entry per character; ``*`` and ``?`` entries with ``wild`` set are wildcards."""

    parts: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    this: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Term | Phrase | Not | And | Or


def _refuse(what: str, text: str) -> Unsupported:
    return Unsupported(
        f"not supported: TEXT SEARCH {what} in {text!r} (Lucene syntax the emulator does not run; "
        "write \\ before the character, or put the text in double quotes, to search for it literally)"
    )


def _error(msg: str) -> AqlSyntaxError:
    return AqlSyntaxError(f"TEXT SEARCH: {msg}")


def _lex(text: str) -> list[tuple[str, object]]:
    """Tokens: ("op", "AND"|"OR"|"NOT"|"+"), ("(", None), (")", None), ("term", Term), ("phrase", Phrase)."""
    out: list[tuple[str, object]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, None))
            i += 1
        elif c == '"':
            i = _phrase(text, i + 1, out)
        elif c == "!":
            out.append(("op", "NOT"))
            i += 1
        elif c in "+-":
            out.append(("op", "NOT" if c == "-" else "+"))
            i += 1
        elif c == "/":
            raise _refuse("regular expression '/.../'", text)
        elif c in _REFUSED:
            raise _refuse(_REFUSED[c], text)
        else:
            i = _term(text, i, out)
    return out


def _phrase(text: str, i: int, out: list[tuple[str, object]]) -> int:
    chars: list[str] = []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\":
            if i + 1 >= len(text):
                raise _error("a '\\' at the end escapes nothing")
            i += 1
        chars.append(text[i])
        i += 1
    if i >= len(text):
        raise _error('a phrase opened with " is not closed')
    words = tuple("".join(chars).split())
    if not words:
        raise _error('an empty phrase ""')
    i += 1
    if i < len(text) and text[i] in "~^":
        raise _refuse(_REFUSED[text[i]], text)
    out.append(("phrase", Phrase(words)))
    return i


def _term(text: str, i: int, out: list[tuple[str, object]]) -> int:
    parts: list[tuple[str, bool]] = []
    raw: list[str] = []
    while i < len(text) and text[i] not in _ENDS_TERM:
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise _error("a '\\' at the end escapes nothing")
            i += 1
            parts.append((text[i], False))
            raw.append("\\" + text[i])
        elif c in _REFUSED:
            raise _refuse(_REFUSED[c], text)
        else:
            parts.append((c, c in _WILD))
            raw.append(c)
        i += 1
    word = "".join(raw)
    if word in _OPS:
        out.append(("op", _OPS[word]))
        return i
    if parts[0][1]:
        raise _error(f"the term {word!r} starts with a wildcard (IBM: the search term cannot start with a wildcard)")
    out.append(("term", Term(tuple(parts))))
    return i


class _Parser:
    """or := and (OR and)* ; and := unary ([AND] unary)* ; unary := (NOT|+) unary | primary."""

    def __init__(self, toks: list[tuple[str, object]], text: str) -> None:
        self.toks = toks
        self.text = text
        self.i = 0

    def peek(self) -> tuple[str, object] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, object]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise _error("the search text has no term")
        node = self.or_()
        if self.peek() is not None:
            raise _error("unbalanced parentheses: ')' without '('")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek() == ("op", "OR"):
            self.take()
            items.append(self.and_("OR"))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self, after: str | None = None) -> Node:
        items = [self.unary(after)]
        while (tok := self.peek()) is not None and tok[0] != ")" and tok != ("op", "OR"):
            op = None
            if tok == ("op", "AND"):
                self.take()
                op = "AND"
            items.append(self.unary(op))
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, after: str | None = None) -> Node:
        tok = self.peek()
        if tok is None:
            if after == "NOT":
                raise _error("NOT ('NOT', '!' or '-') needs a term after it; write \\! or \\- for the character")
            raise _error(f"{after!r} needs a term after it" if after else "the search text ends too early")
        kind, val = tok
        if kind == "op" and val in ("NOT", "+"):
            self.take()
            inner = self.unary("NOT" if val == "NOT" else "+")
            return Not(inner) if val == "NOT" else inner
        if kind == "op":
            raise _error(f"{after!r} needs a term after it" if after else f"{val!r} needs a term before it")
        if kind == ")":
            raise _error(
                "unbalanced parentheses: ')' without '('" if after is None else f"{after!r} needs a term after it"
            )
        self.take()
        if kind == "(":
            if self.peek() == (")", None):
                raise _error("empty parentheses '()'")
            node = self.or_()
            if self.peek() != (")", None):
                raise _error("unbalanced parentheses: '(' is not closed")
            self.take()
            if isinstance(node, Not):  # Lucene: a group of negations alone matches nothing
                raise _negation_error(self.text)
            return node
        return val  # type: ignore[return-value]


def _negation_error(text: str) -> Unsupported:
    return Unsupported(
        f"not supported: TEXT SEARCH {text!r}: NOT (also '-' and '!') must be joined by AND to a term "
        "that is not negated, as in IBM's 'Session* AND NOT SessionToken'; Lucene, which QRadar's "
        "index uses, returns nothing for negations on their own"
    )


def _check_negations(node: Node, parent: Node | None, text: str) -> None:
    if isinstance(node, Not):
        if not (isinstance(parent, And) and any(not isinstance(x, Not) for x in parent.items)):
            raise _negation_error(text)
        _check_negations(node.this, node, text)
    elif isinstance(node, And | Or):
        for x in node.items:
            _check_negations(x, node, text)


def parse_search(text: str) -> Node:
    """The search text as a tree; AqlSyntaxError or Unsupported (each one line) when it is not valid."""
    node = _Parser(_lex(text), text).parse()
    _check_negations(node, None, text)
    return node


def _escape(c: str) -> str:
    if _tok_char(c):
        return c
    if c.isascii() and c.isprintable() and c != " ":
        return "\\" + c
    return f"\\x{{{ord(c):x}}}"


def _body(parts: tuple[tuple[str, bool], ...]) -> str:
    return "".join(_WILD[c] if wild else _escape(c) for c, wild in parts)


def _edges(first: bool, last: bool, body: str) -> str:
    """Token edges where the text starts or ends with a token character (a wildcard counts as one)."""
    return (_START if first else "") + body + (_END if last else "")


def pattern(node: Term | Phrase) -> str:
    """The RE2 pattern (used case-insensitively) that finds one term or phrase in a payload."""
    if isinstance(node, Term):
        parts = node.parts
        return _edges(_tok_char(parts[0][0]), parts[-1][1] or _tok_char(parts[-1][0]), _body(parts))
    body = ""
    for k, word in enumerate(node.words):
        if k:
            both = _tok_char(node.words[k - 1][-1]) and _tok_char(word[0])
            body += NON_TOKEN + ("+" if both else "*")
        body += "".join(_escape(c) for c in word)
    return _edges(_tok_char(node.words[0][0]), _tok_char(node.words[-1][-1]), body)


def _compile(node: Node, payload: exp.Expression) -> exp.Expression:
    if isinstance(node, Term | Phrase):
        args = [payload.copy(), exp.Literal.string(pattern(node)), exp.Literal.string("i")]
        return exp.Anonymous(this="regexp_matches", expressions=args)
    if isinstance(node, Not):
        return exp.Not(this=exp.Paren(this=_compile(node.this, payload)))
    kind = exp.And if isinstance(node, And) else exp.Or
    out = _compile(node.items[0], payload)
    for item in node.items[1:]:
        out = kind(this=out, expression=_compile(item, payload))
    return exp.Paren(this=out)


def text_search(text: str, payload: exp.Expression) -> exp.Expression:
    """TEXT SEARCH over ``payload`` as a boolean sqlglot expression (raises AqlError when refused)."""
    return _compile(parse_search(text), payload)
