"""The literal prefilter: which literals a ruleset needs, and that a scan never skips a record a rule
would match (escaped raw JSON, case folding, literals the normalisers assemble)."""

from __future__ import annotations

import orjson
import pytest

from iisdetect.engine import ir
from iisdetect.engine.detector import Detector
from iisdetect.engine.prefilter import RecordGate, need, safe_literal, safe_piece
from iisdetect.model.stats import RunStats
from iisdetect.readers.evtx_json import normalise_event
from iisdetect.readers.gate import admit, route_key

SYSMON = ir.Source("sysmon_1", ("Microsoft-Windows-Sysmon/Operational",), (), (1,))


def _rule(cond: ir.Node, src: ir.Source = SYSMON) -> ir.CompiledRule:
    return ir.CompiledRule("r1", "t", "high", "X", "", "p", (), (), (ir.Variant(src, cond),))


def _raw(data: dict, eid: int = 1, channel: str = "Microsoft-Windows-Sysmon/Operational") -> str:
    system = {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": eid,
              "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00.000000Z"}},
              "EventRecordID": 1, "Channel": channel, "Computer": "H"}  # fmt: skip
    return orjson.dumps({"Event": {"System": system, "EventData": data}}).decode()


def _agree(cond: ir.Node, raw: str) -> bool:
    """The gate never skips what the evaluator matches; returns whether the rule matched."""
    rule = _rule(cond)
    matched = bool(Detector([rule]).match(normalise_event(orjson.loads(raw)["Event"], "s", "l")))
    admitted = admit(RecordGate([rule]), raw, RunStats())
    assert admitted or not matched
    return matched


def test_needs_follow_and_or_not() -> None:
    a, b = ir.Str("Image", "endswith", "\\W3WP.exe"), ir.Str("CommandLine", "contains", "appcmd")
    assert need(a) == {"\\w3wp.exe"}
    assert need(ir.Or((a, b))) == {"\\w3wp.exe", "appcmd"}
    two = ir.Or((ir.Str("X", "eq", "aaaa"), ir.Str("X", "eq", "bbbb")))
    assert need(ir.And((two, a))) == {"\\w3wp.exe"}  # the most selective conjunct
    assert need(ir.Not(a)) is None
    assert need(ir.Or((a, ir.Regex("X", "[ab]+")))) is None  # one unconstrained branch frees the Or
    assert need(ir.And((ir.Not(a), b))) == {"appcmd"}
    assert need(ir.Const(False)) == frozenset()
    assert need(ir.Str("User", "eq", "dom\\admin"), frozenset({"User"})) is None  # derived field
    assert need(ir.Str("TimeCreated", "startswith", "2024")) is None  # normalised system field
    # "\inetsrv\" ends in a backslash: its safe piece "\inetsrv" is longer than ".dll"
    assert need(ir.Glob("Image", (ir.STAR, "\\inetsrv\\", ir.STAR, ".dll"))) == {"\\inetsrv"}
    # refused as a whole (a backslash before "r"); the safe piece keeps the value constrained
    redirection = ir.Str("TargetFilename", "endswith", "\\inetsrv\\config\\redirection.config")
    assert need(redirection) == {"redirection.config"}


def test_common_text_loses_to_a_rarer_literal() -> None:
    """A literal inside text nearly every record holds (``\\windows\\sys``) is not chosen over ``.dll``,
    though longer: a System32 regex would otherwise make every record naming System32 undecidable."""
    from iisdetect.engine.prefilter import common

    assert common("\\windows\\sys") and common("microsoft-windows-sysmon") is False and not common(".dll")
    regex = ir.Regex("TargetFilename", r"^[a-z]:\\Windows\\(?:System32|SysWOW64)\\[^\\]+\.dll$")
    assert need(regex) == {".dll"}
    system32 = ir.Str("Image", "contains", "\\Windows\\System32\\")
    assert need(ir.And((system32, ir.Str("TargetFilename", "endswith", ".dll")))) == {".dll"}
    assert need(system32) == {"\\windows\\system32"}  # alone, still a valid (weak) constraint
    regex = ir.Regex(regex.field, regex.pattern, ignore_case=True)
    cmd = "C:\\Windows\\System32\\cmd.exe"
    assert _agree(regex, _raw({"Image": cmd, "TargetFilename": "C:\\Windows\\System32\\x.DLL"}))
    assert not _agree(regex, _raw({"Image": cmd, "TargetFilename": "C:\\x.tmp"}))


@pytest.mark.parametrize(
    "value",
    ["é.exe", "a,b", 'say "hi"', ":b", "{x}", "1.0", "100", "a\\\\b", "\\temp", "c:\\", "tab\there", ""],
)
def test_unsafe_literals_give_no_constraint(value: str) -> None:
    assert safe_literal(value) is None


@pytest.mark.parametrize(
    ("value", "piece"),
    [
        ("\\inetsrv\\config\\redirection.config", "redirection.config"),  # cut at the backslash of "\\r"
        ('say "hello"', "hello"),
        ("é.exe", ".exe"),
        ("c:\\temp\\x.dll", "temp\\x.dll"),  # "c:" is short; the backslash of "\\t" is cut
        (":abcd", "abcd"),  # a leading ':' is dropped
        ("a\\\\bcd", "bcd"),
        ("12345\\n", None),  # only a number piece: nothing safe
        ("ab,cd", None),  # pieces shorter than MIN_PIECE
    ],
)
def test_safe_piece_is_the_longest_safe_substring(value: str, piece: str | None) -> None:
    assert safe_piece(value) == piece
    if piece is not None:
        assert piece in value.lower() and safe_literal(piece) == piece


def test_backslash_is_searched_in_its_json_form() -> None:
    cond = ir.Str("Image", "endswith", "\\w3wp.exe")
    assert _agree(cond, _raw({"Image": "C:\\Windows\\System32\\inetsrv\\W3WP.EXE"}))
    assert not admit(RecordGate([_rule(cond)]), _raw({"Image": "C:\\x\\cmd.exe"}), RunStats())


def test_unicode_escapes_are_always_decoded() -> None:
    cond = ir.Str("Image", "endswith", "\\w3wp.exe")
    raw = _raw({"Image": "C:\\x\\W3WP.EXE"}).replace("W3WP", "\\u0057\\u0033WP")
    assert _agree(cond, raw)
    raw = _raw({"Image": "C:/x/w3wp.exe"}).replace("/", "\\/")
    assert _agree(ir.Str("Image", "endswith", "/w3wp.exe"), raw)
    escaped_key = _raw({"Image": "a"}, eid=1).replace('"EventID"', '"\\u0045ventID"')
    assert admit(RecordGate([_rule(cond)]), escaped_key, RunStats())  # not routed on an unread key


def test_case_folding_to_ascii() -> None:
    # Python lower(): U+212A KELVIN SIGN -> "k", U+0130 -> "i" + U+0307; the rule matches, so must the scan
    assert _agree(ir.Str("CommandLine", "contains", "kill"), _raw({"CommandLine": "\u212aill -9"}))
    assert _agree(ir.Str("CommandLine", "contains", "xci"), _raw({"CommandLine": "XC\u0130ng"}))


def test_list_and_nested_values() -> None:
    # values the normaliser joins or re-serialises: the literal the rule holds was never in the raw text
    cond = ir.Str("Data", "eq", "a, b")  # unsafe (comma): no constraint, decoded
    raw = orjson.dumps({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
                                  "EventData": {"Data": {"#text": ["a", "b"]}}}}).decode()  # fmt: skip
    assert _agree(ir.Str("param1", "eq", "a"), raw)
    assert RecordGate([_rule(cond)]).scanner(1) is None
    nested = _raw({"Tree": {"Sub": "tab\there"}})
    assert _agree(ir.Str("Tree", "contains", "\\t"), nested)  # "\\t" is unsafe: never a constraint


def test_route_key_reads_only_unambiguous_values() -> None:
    assert route_key(_raw({}, eid=4688, channel="Security")) == (4688, "Security")
    qualified = _raw({}).replace('"EventID":1', '"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036}')
    assert route_key(qualified)[0] == 7036
    assert route_key(_raw({"EventID": "9"})) == (None, None)  # EventData has one too: ambiguous
    assert route_key(_raw({"Channel": "x"}))[1] is None
    assert route_key('{"EventID":"4624","Channel":null}') == (4624, "")
    assert route_key('{"EventID":04624}') == (None, None)  # not JSON: decoded, reported as bad json
    assert route_key('{"Channel":"Security"}') == (None, None)


def test_routing_counts_and_keeps_provider_rules() -> None:
    stats = RunStats()
    gate = RecordGate([_rule(ir.Str("Image", "contains", "x"))])
    assert not admit(gate, _raw({"Image": "x"}, eid=3), stats)
    assert not admit(gate, _raw({"Image": "x"}, channel="Security"), stats)
    assert not admit(gate, _raw({"Image": "y"}), stats)
    assert admit(gate, _raw({"Image": "X"}), stats)
    assert (stats.records_read, stats.routed_away, stats.prefiltered) == (3, 2, 1)
    by_provider = ir.Source("svc", (), ("Service Control Manager",), (7045,))
    gate = RecordGate([_rule(ir.Const(True), by_provider)])
    assert gate.wanted(7045, "anything")  # the provider is not read raw: any channel may be it
    assert not gate.wanted(7036, "System")


def test_regex_literals_are_the_required_runs() -> None:
    from iisdetect.engine.prefilter import regex_literals

    assert regex_literals(r"(?i)/name:\s*[\"']?Session[\"']?(?:\s|$)") == ("/name:", "Session")
    assert regex_literals("abc|def") == ()  # top-level alternation: nothing is required
    assert regex_literals("(?:abc)?def") == ("def",)
    assert need(ir.Regex("CommandLine", r"dontLog:\s*true")) == {"dontlog:"}
    assert need(ir.Regex("CommandLine", r"\d+\.\d+")) is None
    assert _agree(ir.Regex("CommandLine", r"(?i)DONTLOG:\s*true"), _raw({"CommandLine": "x /dontLog:  TRUE"}))


def test_provider_read_raw_routes_provider_rules() -> None:
    from iisdetect.readers.gate import provider_of

    raw = _raw({"Image": "x"}, eid=7045, channel="System")
    assert provider_of(raw) == "Microsoft-Windows-Sysmon"
    twice = raw.replace('"Name":"Microsoft-Windows-Sysmon"', '"Name":"A","Name":"B"')
    assert provider_of(twice) is None  # orjson keeps the last one: not read raw
    scm = ir.Source("svc", ("System",), ("Service Control Manager",), (7045,))
    gate = RecordGate([_rule(ir.Str("ImagePath", "contains", "x"), scm)])
    stats = RunStats()
    assert not admit(gate, _raw({"ImagePath": "x"}, eid=7045, channel="Other"), stats, provider=True)
    assert stats.routed_away == 1
    by_scm = _raw({"ImagePath": "x"}, eid=7045, channel="Other").replace(
        "Microsoft-Windows-Sysmon", "Service Control Manager"
    )
    assert admit(gate, by_scm, stats, provider=True)  # the provider admits it whatever the channel
    assert admit(gate, _raw({"ImagePath": "x"}, eid=7045, channel="Other"), RunStats())  # provider unread


def test_the_gates_views_for_the_readers_inlined_tests() -> None:
    """``routed_away``: the EventIDs no rule takes (and they get no scanner: their records never reach
    one); ``literal_scans``: the scans of the EventIDs a rule takes, the ones the EVTX reader calls inline."""
    gate = RecordGate([_rule(ir.Str("Image", "contains", "w3wp"))])
    for eid in (1, 3, 5):
        gate.plan(eid)
    assert gate.routed_away() == {3, 5}
    assert gate.plans[3] == (frozenset(), None) and gate.plans[5][1] is None
    scans = gate.literal_scans()
    assert list(scans) == [1] and scans[1] is gate.plans[1][1]
    assert scans[1](b'{"Image":"C:\\\\W3WP.exe"}') and not scans[1](b'{"Image":"cmd.exe"}')
    assert gate.literal_scans() is scans  # kept until a plan is added
    gate.plan(7)
    assert gate.literal_scans() is not scans and 7 not in gate.literal_scans()
