"""The one glob implementation: parse, normal form, and the renderings every target uses."""

from __future__ import annotations

import re

import pytest

from iisdetect.engine import ir, wildcards

S, Q = ir.STAR, ir.ONE


@pytest.mark.parametrize(
    ("text", "escapes", "parts"),
    [
        ("C:\\*\\x.exe", False, ("C:\\", S, "\\x.exe")),
        ("a**b", False, ("a", S, "b")),
        ("a?b", False, ("a", Q, "b")),
        ("", False, ()),
        ("*", False, (S,)),
        ("a\\*b", True, ("a*b",)),
        ("a\\?b\\\\", True, ("a?b\\",)),
        # Sigma escapes: "\W" is no escape (the backslash stays), "\*" is a literal star
        ("C:\\Windows\\*", True, ("C:\\Windows*",)),
        ("C:\\Windows\\\\*", True, ("C:\\Windows\\", S)),
    ],
)
def test_parse(text: str, escapes: bool, parts: tuple) -> None:
    assert wildcards.parse(text, escapes) == parts


def test_normalise_merges_literals_and_stars() -> None:
    assert wildcards.normalise(["a", "", "b", S, S, Q, "c"]) == ("ab", S, Q, "c")
    with pytest.raises(TypeError):
        wildcards.normalise([1])


@pytest.mark.parametrize(
    ("parts", "node"),
    [
        (("x",), ir.Str("F", "eq", "x")),
        ((S, "x"), ir.Str("F", "endswith", "x")),
        (("x", S), ir.Str("F", "startswith", "x")),
        ((S, "x", S), ir.Str("F", "contains", "x")),
        ((), ir.Str("F", "eq", "")),
        ((S,), ir.Glob("F", (S,))),  # wildcard only: a present value, not "always true"
        ((Q, S), ir.Glob("F", (Q, S))),
        (("a", S, "b"), ir.Glob("F", ("a", S, "b"))),
    ],
)
def test_to_node(parts: tuple, node: ir.Node) -> None:
    assert wildcards.to_node("F", parts) == node


def test_renderings_agree() -> None:
    parts = ("C:\\", S, "\\a", Q, ".dll")
    assert wildcards.to_like(parts) == "C:\\%\\a_.dll"
    rx = re.compile(wildcards.to_regex(parts), re.S | re.I)
    assert rx.fullmatch("c:\\x\\y\\ab.DLL") and not rx.fullmatch("c:\\x\\a.dll")
    assert wildcards.to_like(("100%", S)) is None  # LIKE cannot say a literal %: callers use the regex
    assert wildcards.str_parts(ir.Str("F", "contains", "")) == (S,)


def test_like_with_an_escape_character_keeps_literal_percent_underscore_and_escape() -> None:
    assert wildcards.to_like(("100%", S, "a_b#", Q), escape="#") == "100#%%a#_b##_"
    import duckdb

    pat = wildcards.to_like(("100%", S, "a_b#"), escape="#")
    con = duckdb.connect()
    hit = "SELECT ? LIKE ? ESCAPE '#'"
    assert con.execute(hit, ["100%xxa_b#", pat]).fetchone()[0] is True
    assert con.execute(hit, ["100xxxaXb#", pat]).fetchone()[0] is False
