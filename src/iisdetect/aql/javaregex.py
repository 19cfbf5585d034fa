"""Java regular expressions (MATCHES/IMATCHES, REPLACEALL) -> RE2, which DuckDB runs.

AQL's regex operators take Java patterns (IBM: https://www.ibm.com/docs/en/qsip/7.6.0?topic=structure-like-clause,
"MATCHES ... regular expression"; custom property expressions are Java regex:
https://www.ibm.com/docs/en/qsip/7.5?topic=expressions-configuring-custom-property-expression).
RE2 shares most syntax. What differs is translated so that it means exactly the same, and what RE2
cannot express is refused with an error naming the Java feature:

translated
  ``\\p{Lower}`` and the other POSIX/java.lang.Character classes (``\\p{Alpha}``, ``\\p{Digit}``,
  ``\\p{Alnum}``, ``\\p{Upper}``, ``\\p{Punct}``, ``\\p{Space}``, ``\\p{XDigit}``, ``\\p{Blank}``,
  ``\\p{Cntrl}``, ``\\p{Graph}``, ``\\p{Print}``, ``\\p{ASCII}``, ``\\p{javaLowerCase}`` ...) ->
  explicit ASCII classes (Java's POSIX classes are US-ASCII only);
  ``\\h`` / ``\\H`` (horizontal white space) and ``\\v`` (vertical white space, Java 8) -> classes;
  ``\\e`` -> ``\\x1B``; ``\\a`` -> ``\\x07``; ``\\cX`` -> the control character; ``\\0nn`` (octal)
  -> ``\\x{..}``; ``\\Z`` -> ``(?:\\n?\\z)`` (RE2 lacks it; a trailing newline is consumed, which changes
  no match result); ``(?<name>`` stays (RE2 accepts it); an unescaped ``.`` outside a class ->
  ``[^\\n\\r\\x{85}\\x{2028}\\x{2029}]`` where DOTALL is off (flags ``(?s)`` / ``(?s:...)`` are
  tracked per group), because Java's ``.`` also stops at ``\\r``, NEL and the Unicode line
  separators, RE2's only at ``\\n``.
refused
  lookahead/lookbehind ``(?=`` ``(?!`` ``(?<=`` ``(?<!``, atomic groups ``(?>``, possessive
  quantifiers (``*+``, ``++``, ``?+``, ``}+``), back references ``\\1`` / ``\\k<name>``, ``\\G``,
  ``\\R``, ``\\X``, class intersection ``&&``, the COMMENTS flag ``x`` and the flags ``d``/``u``/``U``,
  and inline flags other than ``i``, ``m``, ``s``.
"""

from __future__ import annotations

import re

from iisdetect.aql.errors import AqlError

_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": r"\x00-\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": r"!-/:-@\[-`{-~", "Graph": r"!-~", "Print": r" -~",
    "Blank": r" \t", "Cntrl": r"\x00-\x1F\x7F", "XDigit": "0-9a-fA-F", "Space": r" \t\n\x0B\f\r",
    "javaLowerCase": r"\p{Ll}", "javaUpperCase": r"\p{Lu}", "javaWhitespace": r"\t\n\x0B\f\r\x1C-\x1F ",
    "javaMirrored": None,
}  # fmt: skip
_H = r" \t\x{A0}\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}"
_V = r"\n\x0B\f\r\x{85}\x{2028}\x{2029}"
_DOT = r"[^\n\r\x{85}\x{2028}\x{2029}]"


class JavaRegexError(AqlError):
    """A Java regex feature RE2 cannot express; the message names it."""


def _refuse(feature: str, pattern: str) -> JavaRegexError:
    return JavaRegexError(f"Java regex feature not supported by the emulator (RE2): {feature} in {pattern!r}")


def java_to_re2(pattern: str) -> str:
    """The RE2 pattern that matches exactly what Java's ``pattern`` matches (or JavaRegexError)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = 0
    dotall = False
    stack: list[bool] = []  # DOTALL state outside each open group
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise _refuse("a trailing backslash", pattern)
            d = pattern[i + 1]
            if d == "Q":  # \Q...\E: literal text (RE2 has it too, but escape it plainly)
                end = pattern.find("\\E", i + 2)
                text = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append("".join("\\" + ch if not ch.isalnum() else ch for ch in text))
                i = n if end < 0 else end + 2
                continue
            if d in "pP" and i + 2 < n and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                name = pattern[i + 3 : end] if end > 0 else ""
                name = name[2:] if name.startswith("Is") and name[2:] in _POSIX else name
                if name in _POSIX:
                    body = _POSIX[name]
                    if body is None:
                        raise _refuse(f"\\p{{{name}}}", pattern)
                    neg = "^" if d == "P" else ""
                    if in_class:
                        if neg:
                            raise _refuse(f"\\P{{{name}}} inside a character class", pattern)
                        out.append(body)
                    else:
                        out.append(f"[{neg}{body}]")
                    i = end + 1
                    continue
                out.append(pattern[i : end + 1])  # Unicode scripts/categories: same in RE2
                i = end + 1
                continue
            if d.isdigit() and d != "0":
                raise _refuse(f"back reference \\{d}", pattern)
            simple = {"e": r"\x1B", "a": r"\x07", "h": _H, "v": _V}
            if d in simple:
                body = simple[d]
                out.append(body if (in_class or d in "ea") else f"[{body}]")
                i += 2
                continue
            if d == "H":
                if in_class:
                    raise _refuse("\\H inside a character class", pattern)
                out.append(f"[^{_H}]")
                i += 2
                continue
            if d == "V":
                if in_class:
                    raise _refuse("\\V inside a character class", pattern)
                out.append(f"[^{_V}]")
                i += 2
                continue
            if d == "c" and i + 2 < n:
                out.append(f"\\x{{{ord(pattern[i + 2]) ^ 64:x}}}")
                i += 3
                continue
            if d == "0":
                m = re.match(r"0([0-3]?[0-7]{1,2})", pattern[i + 1 :])
                if not m:
                    raise _refuse("\\0 without octal digits", pattern)
                out.append(f"\\x{{{int(m.group(1), 8):x}}}")
                i += 1 + len(m.group(0))
                continue
            if d == "Z":
                out.append(r"(?:\n?\z)")
                i += 2
                continue
            for feat, name in (("G", "\\G (end of previous match)"), ("R", "\\R (linebreak matcher)"),
                               ("X", "\\X (grapheme cluster)"), ("k", "named back reference \\k<...>")):  # fmt: skip
                if d == feat:
                    raise _refuse(name, pattern)
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "[":
                raise _refuse("nested character class (union/intersection)", pattern)
            if c == "&" and pattern.startswith("&&", i):
                raise _refuse("character class intersection &&", pattern)
            if c == "]":
                in_class = 0
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = 1
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is literal
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 :]
            for prefix, name in (("=", "lookahead (?=...)"), ("!", "negative lookahead (?!...)"),
                                 ("<=", "lookbehind (?<=...)"), ("<!", "negative lookbehind (?<!...)"),
                                 (">", "atomic group (?>...)")):  # fmt: skip
                if rest.startswith(prefix):
                    raise _refuse(name, pattern)
            m = re.match(r"([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", rest)
            if m:
                on, off = m.group(1) or "", m.group(2) or ""
                bad = set(on + off) - set("ims")
                if bad:
                    raise _refuse(f"inline flag {''.join(sorted(bad))!r}", pattern)
                new = (dotall or "s" in on) and "s" not in off
                if m.group(3) == ")":  # (?s): for the rest of the enclosing group
                    dotall = new
                else:  # (?s:...): inside this group only
                    stack.append(dotall)
                    dotall = new
                out.append(pattern[i : i + 2 + m.end()])
                i += 2 + m.end()
                continue
            stack.append(dotall)
            out.append(c)
            i += 1
            continue
        if c == "(":
            stack.append(dotall)
        elif c == ")" and stack:
            dotall = stack.pop()
        if c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise _refuse(f"possessive quantifier {c}+", pattern)
        if c == "." and not dotall:
            out.append(_DOT)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def java_replacement(repl: str) -> str:
    """A Java replacement string (``$1``, ``\\$``) -> RE2/DuckDB's (``\\1``)."""
    out, i = [], 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif c == "$" and i + 1 < len(repl) and repl[i + 1].isdigit():
            out.append("\\" + repl[i + 1])
            i += 2
        elif c == "$":
            raise AqlError(f"REPLACEALL: named or malformed group reference in {repl!r}")
        else:
            out.append(c)
            i += 1
    return "".join(out)
