"""The local evaluator: Sigma string semantics and EventID/channel dispatch."""

from __future__ import annotations

import pytest

from iisdetect.engine import ir
from iisdetect.engine.detector import Detector
from iisdetect.engine.evaluate import compile_node, lift_event_ids
from tests.helpers import ev


def test_string_ops_are_case_insensitive_unless_cased() -> None:
    e = ev(1, {"Image": r"C:\Windows\System32\INETSRV\AppCmd.exe"})
    assert compile_node(ir.Str("Image", "endswith", r"\appcmd.exe"))(e)
    assert compile_node(ir.Str("Image", "contains", "inetsrv"))(e)
    assert compile_node(ir.Str("Image", "startswith", "c:\\windows"))(e)
    assert not compile_node(ir.Str("Image", "eq", "appcmd.exe"))(e)
    assert not compile_node(ir.Str("Image", "contains", "inetsrv", cased=True))(e)
    assert compile_node(ir.Str("Image", "contains", "INETSRV", cased=True))(e)


def test_missing_field_never_matches_but_not_of_it_does() -> None:
    e = ev(1, {})
    assert not compile_node(ir.Str("Image", "contains", ""))(e)
    assert compile_node(ir.Not(ir.Str("Image", "contains", "x")))(e)
    assert compile_node(ir.Null("Image"))(e)


def test_glob_regex_num_cidr() -> None:
    e = ev(3, {"Image": r"C:\Windows\WinSxS\amd64_x\TiWorker.exe", "DestinationIp": "10.1.2.3", "Port": "443"})
    assert compile_node(ir.Glob("Image", ("c:\\windows\\winsxs\\", ir.STAR, "\\tiworker.exe")))(e)
    assert not compile_node(ir.Glob("Image", ("c:\\windows\\", ir.ONE, "\\tiworker.exe")))(e)
    assert compile_node(ir.Regex("Image", r"winsxs\\amd64", True))(e)
    assert not compile_node(ir.Regex("Image", r"winsxs\\amd64"))(e)
    assert compile_node(ir.Num("EventID", 3))(e)
    assert compile_node(ir.Num("Port", 443))(e)
    assert compile_node(ir.Cidr("DestinationIp", "10.0.0.0/8"))(e)
    assert not compile_node(ir.Cidr("DestinationIp", "192.168.0.0/16"))(e)


def test_or_merge_keeps_semantics() -> None:
    node = ir.Or((ir.Str("A", "eq", "x.y"), ir.Str("A", "startswith", "pre"), ir.Str("B", "contains", "q")))
    pred = compile_node(node)
    assert pred(ev(1, {"A": "X.Y"}))
    assert not pred(ev(1, {"A": "xzy"}))  # the dot is literal
    assert pred(ev(1, {"A": "prefix"}))
    assert pred(ev(1, {"B": "aqa"}))
    assert not pred(ev(1, {"A": "apre"}))
    ends = compile_node(ir.Or((ir.Str("A", "endswith", ".DLL"), ir.Str("A", "endswith", ".exe"))))
    assert ends(ev(1, {"A": "x.dll"})) and ends(ev(1, {"A": "X.EXE"})) and not ends(ev(1, {"A": "x.dll.txt"}))


def _rule(source: ir.Source, node: ir.Node, rid: str = "r") -> ir.CompiledRule:
    return ir.CompiledRule(rid, rid, "high", rid, "", "", (), (), (ir.Variant(source, node),))


def test_dispatch_by_event_id_channel_or_provider() -> None:
    src = ir.Source("s", ("Microsoft-Windows-Sysmon/Operational",), ("Microsoft-Windows-Sysmon",), (7,))
    det = Detector([_rule(src, ir.Const(True))])
    assert det.match(ev(7, {}))
    assert det.match(ev(7, {}, channel="microsoft-windows-sysmon/operational", provider="x"))
    assert det.match(ev(7, {}, channel="ForwardedEvents"))
    assert not det.match(ev(7, {}, channel="Application", provider="App"))
    assert not det.match(ev(8, {}))


@pytest.mark.parametrize(
    ("node", "ids"),
    [
        (ir.And((ir.Num("EventID", 29), ir.Const(True))), (29,)),
        (ir.Or((ir.Num("EventID", 1), ir.Num("EventID", 2))), (1, 2)),
        (ir.Or((ir.Num("EventID", 1), ir.Const(True))), ()),
        (
            ir.Or((ir.And((ir.Num("EventID", 29), ir.Const(True))), ir.And((ir.Num("EventID", 30), ir.Null("x"))))),
            (29, 30),
        ),
        (ir.Not(ir.Num("EventID", 1)), ()),
    ],
)
def test_lift_event_ids(node: ir.Node, ids: tuple[int, ...]) -> None:
    assert lift_event_ids(node) == ids


@pytest.mark.parametrize(
    ("value", "cased", "want"),
    [
        ("C:\\inetpub\\wwwroot\\bin\\Evil.DLL", False, True),
        ("C:\\inetpub\\wwwroot\\bin\\evil.txt", False, False),  # the literal is missing: RE2 is not asked
        ("C:\\INETPUB\\wwwroot\\BIN\\x.dll", True, False),  # cased: the literal must match exactly
        ("c:\\inetpub\\wwwroot\\bin\\x.dll", True, True),
        ("C:\\inetpub\\wwwroot\\bin\\x.dlſ", False, False),  # no l/ſ folding in RE2 either
        ("C:\\inetpub\\wwwroot\\ſyſ\\bin\\x.dll", False, True),  # non-ASCII: the guard defers to RE2
        ("C:\\inetpub\\wwwroot\\BİN\\x.dll", False, False),  # İ is not i for RE2; lower() adds a dot
    ],
)
def test_glob_literal_guard_agrees_with_re2(value: str, cased: bool, want: bool) -> None:
    """The glob's literal pre-check (``evaluate._glob_literal``) only saves RE2 calls, it never changes a result."""
    from iisdetect.engine.evaluate import glob_regex
    from iisdetect.engine.linear_re import compile_linear

    node = ir.Glob("TargetFilename", ("c:\\inetpub\\", ir.STAR, "\\bin\\", ir.STAR, ".dll"), cased)
    e = ev(11, {"TargetFilename": value})
    rx = compile_linear(glob_regex(node.parts), ignore_case=not cased, dotall=True)
    assert (rx.fullmatch(value) is not None) == want
    assert compile_node(node)(e) is want
