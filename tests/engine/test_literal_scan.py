"""The prefilter's literal scan: Hyperscan and RE2 give the same answer, on hand cases and on the
raw text of real records (the corpus), for the literal sets the shipped rulesets compile to."""

from __future__ import annotations

from pathlib import Path

import evtx
import pytest

from iisdetect.engine import literal_scan
from iisdetect.engine.prefilter import RecordGate, json_form
from iisdetect.engine.ruleset import load_rules
from iisdetect.readers.gate import event_id_of

ENGINES = literal_scan.ENGINES
needs_hs = pytest.mark.skipif("hyperscan" not in ENGINES, reason="no hyperscan wheel for this platform")


@pytest.mark.parametrize("engine", ENGINES)
def test_hand_cases(engine: str) -> None:
    scan = literal_scan.compile_literals([b"\\\\w3wp.exe", b"appcmd", b"dontlog"], engine)
    assert scan(b'{"Image":"C:\\\\Windows\\\\System32\\\\inetsrv\\\\W3WP.EXE"}')  # JSON-escaped, any case
    assert scan(b'{"CommandLine":"APPCMD.exe set config"}')
    assert scan(b"xx dOnTlOg")
    assert not scan(b'{"Image":"C:\\\\Windows\\\\w3wp_exe"}')
    assert not scan(b"C:\\w3wp.exe")  # one backslash is not the JSON form of one
    assert not scan(b"app cmd")
    assert not scan(b"")


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_set_never_matches(engine: str) -> None:
    scan = literal_scan.compile_literals([], engine)
    assert not scan(b"anything") and not scan(b"")


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown literal-scan engine"):
        literal_scan.compile_literals([b"x"], "grep")


def test_environment_can_force_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IISDETECT_LITERAL_SCAN", "re2")
    assert literal_scan.default_engine() == "re2"
    monkeypatch.delenv("IISDETECT_LITERAL_SCAN")
    assert literal_scan.default_engine() == ENGINES[0]


@needs_hs
def test_engines_agree_on_corpus_records(corpus: Path) -> None:
    """Every corpus EVTX record, against the scan of its EventID for both shipped rulesets."""
    sets: dict[tuple[str, int], list[bytes]] = {}
    gates = {name: RecordGate(load_rules(name).rules) for name in ("seed", "iis")}
    scans: dict[tuple[str, int, str], literal_scan.Scan] = {}
    checked = hits = 0
    for path in sorted(corpus.rglob("*.evtx"))[::3]:
        try:
            records = list(evtx.PyEvtxParser(str(path)).records_json())
        except (RuntimeError, OSError):
            continue  # a deliberately damaged file: the readers' tests own those
        for rec in records[:200]:
            raw = rec["data"]
            eid = event_id_of(raw)
            data = raw.encode()
            for name, gate in gates.items():
                key = (name, eid if eid is not None else -1)
                if key not in sets:
                    lits = set()
                    for e in gate._by_id.get(eid, []) + gate._any if eid is not None else []:
                        lits |= e.need or set()
                    sets[key] = [json_form(lit).encode() for lit in lits]
                answers = []
                for engine in ENGINES:
                    k = (*key, engine)
                    if k not in scans:
                        scans[k] = literal_scan.compile_literals(sets[key], engine)
                    answers.append(scans[k](data))
                assert len(set(answers)) == 1, (path.name, rec["event_record_id"], name)
                checked += 1
                hits += answers[0]
    assert checked > 5000 and 0 < hits < checked  # real records, some of each answer
