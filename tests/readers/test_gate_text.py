"""readers/gate.py's ``verdict_text``: the EventID read at a verified prefix gives the answers of the
generic path (``verdict_pyevtx``) on real records, and never skips a record a rule would match."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.prefilter import RecordGate
from iisdetect.engine.ruleset import load_rules
from iisdetect.readers import gate
from iisdetect.readers.evtx_json import normalise_event
from tests.helpers import corpus_evtx_texts

SYSTEM = '{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":'
SYSMON = (
    '{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"}},'
)
W3WP = '"Image":"C:\\\\Windows\\\\System32\\\\inetsrv\\\\w3wp.exe"'


@pytest.fixture(autouse=True)
def _fresh_prefixes() -> None:
    gate._PREFIXES.clear()


def _gates() -> list[tuple[RecordGate, Detector]]:
    out = []
    for name in ("seed", "iis"):
        rules = load_rules(name).rules
        out.append((RecordGate(rules), Detector(rules)))
    return out


def _never_skips_a_match(g: RecordGate, det: Detector, text: str) -> int:
    v = gate.verdict_text(g, text)
    if v != gate.DECODE:
        event = normalise_event(orjson.loads(text)["Event"], "s", "l")
        assert not det.match(event), text[:300]
    return v


def test_same_answers_as_the_generic_path_on_corpus_records(corpus: Path) -> None:
    gates = _gates()
    seen = {gate.DECODE: 0, gate.ROUTED_AWAY: 0, gate.PREFILTERED: 0}
    for path, text in corpus_evtx_texts(corpus):
        for g, det in gates:
            v = _never_skips_a_match(g, det, text)
            old = gate.verdict_pyevtx(g, gate._encoded(text))
            # the generic path decodes a record whose EventID key occurs twice; the prefix reads System's
            assert v == old or (old == gate.DECODE and text.count('"EventID"') > 1), (path, text[:300])
            seen[v] += 1
    assert min(seen.values()) > 100, seen
    assert 1 <= len(gate._PREFIXES) <= gate._MAX_PREFIXES


def test_system_eventid_is_read_whatever_eventdata_holds() -> None:
    g, det = _gates()[1]
    head = SYSTEM + SYSMON + '"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},'
    quiet = head + '"EventData":{"EventID":"4688","Image":"C:\\\\x.exe"}}}'
    assert _never_skips_a_match(g, det, quiet) == gate.PREFILTERED  # learnt, and System's EventID 1 read
    assert gate._PREFIXES == [SYSTEM + SYSMON + '"EventID"']
    loud = head + '"EventData":{"EventID":"4688","Image":"x","CommandLine":"appcmd install module /name:x"}}}'
    assert _never_skips_a_match(g, det, loud) == gate.DECODE
    routed = SYSTEM + SYSMON + '"EventID":255,"Channel":"x"},"EventData":{' + W3WP + "}}}"
    assert _never_skips_a_match(g, det, routed) == gate.ROUTED_AWAY  # no rule takes Sysmon EventID 255


@pytest.mark.parametrize(
    "text",
    [
        # an attribute value holding an escaped quote: the prefix is not trusted, the generic path decides
        SYSTEM
        + '{"Provider":{"#attributes":{"Name":"x\\"},\\"EventID\\":255"}},"EventID":1},"EventData":{'
        + W3WP
        + "}}}",
        # EventData before System: not the shape Windows writes
        '{"Event":{"EventData":{"EventID":"255"},"System":{"EventID":1}}}',
        # no Provider first
        SYSTEM + '{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{' + W3WP + "}}}",
    ],
)
def test_other_shapes_take_the_generic_path(text: str) -> None:
    for g, det in _gates():
        assert _never_skips_a_match(g, det, text) == gate.verdict_pyevtx(g, text.encode())
    assert gate._PREFIXES == []


def test_prefixes_stay_bounded() -> None:
    g, _ = _gates()[1]
    giant = f'{{"Provider":{{"#attributes":{{"Name":"{"P" * 5000}"}}}},'
    gate.verdict_text(g, SYSTEM + giant + '"EventID":1,"Channel":"c"},"EventData":{}}}')
    assert gate._PREFIXES == []  # not kept: longer than _MAX_PREFIX
    for n in range(50):
        provider = f'{{"Provider":{{"#attributes":{{"Name":"P{n}"}}}},'
        gate.verdict_text(g, SYSTEM + provider + '"EventID":1,"Channel":"c"},"EventData":{}}}')
    assert len(gate._PREFIXES) == gate._MAX_PREFIXES and gate._PREFIXES[0].endswith('"P49"}},"EventID"')


def test_the_evtx_readers_inlined_test_counts_as_verdict_text(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """readers/evtx.py settles most records of a Security log (routed away) and of a Sysmon log
    (prefiltered) without calling the gate: the events and the counts over the corpus's EVTX files are
    those of asking ``verdict_text`` for every record."""
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import evtx as evtx_reader
    from iisdetect.readers import iter_events

    files = [str(p) for p in sorted(corpus.rglob("*.evtx"))]

    def run() -> tuple[list[str], tuple[int, int, int]]:
        g = RecordGate(load_rules("iis").rules)
        stats = RunStats()
        events = [f"{e.source}:{e.locator}" for e in iter_events(files, stats, gate=g)]
        return events, (stats.records_read, stats.routed_away, stats.prefiltered)

    calls: list[str] = []
    real_text, real_eid = gate.verdict_text, gate.verdict_eid

    def counting_text(g: RecordGate, text: str) -> int:
        calls.append("text")
        return real_text(g, text)

    def counting_eid(g: RecordGate, eid: int, text: str) -> int:
        calls.append("eid")
        return real_eid(g, eid, text)

    monkeypatch.setattr(evtx_reader, "verdict_text", counting_text)
    monkeypatch.setattr(evtx_reader, "verdict_eid", counting_eid)
    inlined = run()
    asked_inlined = len(calls)
    monkeypatch.setattr(evtx_reader, "inline_tests", lambda g: ("\x00", frozenset(), {}))  # no inlined test
    monkeypatch.setattr(evtx_reader, "first_prefix", lambda: "\x00")
    calls.clear()
    gate._PREFIXES.clear()
    assert run() == inlined
    _, routed_away, prefiltered = inlined[1]
    assert routed_away > 10_000 and prefiltered > 1_000  # many records skipped both ways ...
    assert asked_inlined < len(calls) - 10_000 - 1_000  # ... and most of them without a call
