"""Linear-time regular expressions (RE2) for everything matched against attacker-controlled fields.

Why: Python's ``re`` backtracks. The logging-tamper rule's ``dontLog:\\s*"?\\s*true`` took 13 s on one
32 KB command line (quadratic in a run of spaces), correlation's DLL pattern the same, and a user rule
``(a+)+$`` never finishes (../shared/reference/hostile-inputs.md, finding 4). RE2
(https://github.com/google/re2, the ``google-re2`` wheel) runs in time linear in the input whatever
the pattern. It has no backreferences and no lookaround: a rule that needs them is refused with a
one-line reason (:class:`UnsupportedRegex`), never run on a backtracking engine.
"""

from __future__ import annotations

from typing import Any

import re2


class UnsupportedRegex(ValueError):
    """The pattern cannot run in linear time (RE2 refused it)."""


def compile_linear(pattern: str, *, ignore_case: bool = False, dotall: bool = False) -> Any:
    """An RE2 pattern with ``search``/``fullmatch``/``findall`` like ``re``; UnsupportedRegex if RE2 refuses."""
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print its own error line on stderr
    opts.case_sensitive = not ignore_case
    opts.dot_nl = dotall
    try:
        return re2.compile(pattern, opts)
    except re2.error as exc:
        msg = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsupportedRegex(f"regex {pattern[:80]!r} needs a backtracking feature ({msg}); use RE2 syntax") from None


def linear_test(pattern: str, *, ignore_case: bool = False, dotall: bool = False, full: bool = False) -> Any:
    """A ``str -> bool`` test equal to ``compile_linear(...).search`` (``fullmatch`` when ``full``) being
    not ``None``, several times cheaper per call.

    Why: the ``re2`` wrapper's ``search`` converts every match span from bytes to characters in
    Python (~10 us a call); a rule only needs yes/no, which a one-pattern ``re2.Set`` answers in C.
    The set also holds an empty pattern that matches every text: a result without it means RE2 gave
    up (DFA out of memory), and the test falls back to the full ``search``, so it is never wrong.
    """
    rx = compile_linear(pattern, ignore_case=ignore_case, dotall=dotall)
    search = rx.fullmatch if full else rx.search
    opts = re2.Options()
    opts.log_errors = False
    opts.case_sensitive = not ignore_case
    opts.dot_nl = dotall
    rset = re2.Set.SearchSet(opts)
    try:
        rset.Add("")
        rset.Add(f"^(?:{pattern})$" if full else pattern)
        rset.Compile()
    except re2.error:  # pragma: no cover - the same parser accepted it above
        return lambda v: search(v) is not None
    raw = rset._set.Match if hasattr(rset, "_set") else None  # C entry point (bytes), no wrapper frame

    def test(v: str) -> bool:
        try:
            ids = raw(v.encode("utf-8")) if raw is not None else rset.Match(v)
        except UnicodeEncodeError:  # a lone surrogate: let the wrapper behave as it always did
            return search(v) is not None
        if ids and len(ids) == 2:
            return True
        if ids:
            return False
        return search(v) is not None  # the scan failed (no sentinel): ask the full matcher

    return test


def lazy_linear_test(pattern: str, **options: bool) -> list[Any]:
    """A one-item list holding a :func:`linear_test` that is built on its first call.

    Why: the default ruleset holds about 2,100 patterns; building every RE2 program up front cost
    0.22 s of a one-event hunt's start-up, though an event meets only the few its index routes it to.
    The caller calls ``box[0](v)``: after the first call ``box[0]`` is the compiled test itself, so
    the hot path pays one list subscript, not an extra Python frame. Patterns reach the evaluator
    already checked (``engine/compile.py`` refuses what RE2 cannot run, before rules are cached), so a
    late compile cannot fail mid-run.
    """
    box: list[Any] = []

    def first(v: str) -> bool:
        box[0] = linear_test(pattern, **options)
        return bool(box[0](v))

    box.append(first)
    return box
