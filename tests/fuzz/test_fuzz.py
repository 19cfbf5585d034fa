"""Property fuzzing (hypothesis) of every reader, the AQL translator and the rule compiler.

Inputs are mutations of the project's own seeds (tests/fixtures/readers/shapes, EVTX files from
tests/readers/evtx_builder.py, containers wrapping them) and generated text. The properties are the
promises of DEVELOPERS.md: no exception escapes a reader (bad input is a counted skip or a failed
file); every event read is counted; what is read is printable inert text and JSON-encodable; the
AQL translator and the rule compiler refuse with their own errors, never crash.
A crash found here becomes a reproducer test (tests/hostile/).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import tarfile
import tempfile
import zipfile
from pathlib import Path

import orjson
import yaml
from hypothesis import given
from hypothesis import strategies as st

from iisdetect.errors import IisdetectError
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from iisdetect.report.escape import inert
from tests.readers import evtx_builder as b

from .conftest import RUNS

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "readers" / "shapes"
SEEDS = {p.name: p.read_bytes() for p in sorted(SHAPES.iterdir())}
EVTX_SEED = b.evtx_file([6, 5], free_chunks=1)
TOKENS = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\ud800", b"\\u0000", b"1e999", b"99999999999999999999999",
          b"\xef\xbb\xbf", b"\xff\xfe", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"<Event>", b"</Event>", b"&a;",
          b"\n", b"\r\n", b"\x00", b"\x1b[2J", b"Record 1\n{", b"<Event xmlns='x'>"]  # fmt: skip


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A seed with a few edits: bit flips, token insertion, deletion, truncation, duplication."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data += draw(st.binary(max_size=64))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "token", "delete", "truncate", "dup", "bytes"]))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 50))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 512))]
        elif op == "truncate":
            del data[pos:]
        elif op == "dup":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 4096))]
        else:
            data[pos : pos + 8] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def check_read(data: bytes, name: str, target: str) -> None:
    RUNS[target] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        stats = RunStats()
        events = []
        try:
            for ev in iter_events([tmp], stats):  # folder-walk semantics: never raises for content
                events.append(ev)
        except IisdetectError:
            raise AssertionError("a folder walk raised for file content") from None
    assert len(events) == stats.records_read
    assert stats.records_skipped >= 0 and stats.records_seen == stats.records_read + stats.records_skipped
    for ev in events:
        for value in (ev.computer, ev.channel, ev.provider, ev.time_created, *ev.data.keys(), *ev.data.values()):
            assert isinstance(value, str)
            inert(value).encode("utf-8")
        orjson.dumps({"data": ev.data, "computer": ev.computer, "rid": ev.record_id if ev.record_id is not None
                      and abs(ev.record_id) < 1 << 63 else None})  # fmt: skip


@given(st.sampled_from(sorted(n for n in SEEDS if "json" in n)).flatmap(lambda n: st.tuples(st.just(n),
       mutated(SEEDS[n]))))  # fmt: skip
def test_fuzz_json_readers(case):
    name, data = case
    check_read(data, name, "json")


@given(st.sampled_from(sorted(n for n in SEEDS if n.endswith(".xml"))).flatmap(lambda n: st.tuples(st.just(n),
       mutated(SEEDS[n]))))  # fmt: skip
def test_fuzz_xml_reader(case):
    name, data = case
    check_read(data, name, "xml")


@given(mutated(EVTX_SEED))
def test_fuzz_evtx_reader(data):
    check_read(data, "x.evtx", "evtx")


def _wrap(kind: str, name: str, data: bytes) -> bytes:
    if kind == "gz":
        return gzip.compress(data)
    if kind == "bz2":
        return bz2.compress(data)
    bio = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name, data)
    else:
        with tarfile.open(fileobj=bio, mode="w") as tf:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return bio.getvalue()


@given(st.sampled_from(["gz", "bz2", "zip", "tar"]), st.sampled_from(sorted(SEEDS)), st.data())
def test_fuzz_containers(kind, name, data):
    blob = data.draw(mutated(_wrap(kind, name, SEEDS[name])))
    check_read(blob, f"c.{kind}", "container")


AQL_WORDS = ["SELECT", "FROM", "events", "flows", "WHERE", "qid", "=", "'x'", "(", ")", "OR", "AND", "NOT",
             "LAST", "5", "MINUTES", "START", "STOP", "GROUP", "BY", "ORDER", "LIMIT", "*", ",", "COUNT(*)",
             '"Image"', "MATCHES", "'(a+)+$'", "ILIKE", "'%x%'", ";", "COPY", "read_csv('/etc/passwd')",
             "99999999999999999999", "--", "/*", "*/", "UNION", "CONCAT(", "LOGSOURCENAME(logsourceid)"]  # fmt: skip


@given(st.lists(st.sampled_from(AQL_WORDS), max_size=40).map(" ".join) | st.text(max_size=200))
def test_fuzz_aql_translator(query):
    from iisdetect.aql.errors import AqlError

    RUNS["aql"] += 1
    emu = _emulator()
    with contextlib.suppress(AqlError, IisdetectError):  # a refusal is fine; anything else is a crash
        emu.translate(query)


_EMU = []


def _emulator():
    if not _EMU:
        from iisdetect.aql import Emulator

        emu = Emulator()
        emu.load([])
        emu.prepare()
        _EMU.append(emu)
    return _EMU[0]


_SCALARS = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True))
_VALUES = st.recursive(
    _SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3), max_leaves=8
)


@given(
    st.fixed_dictionaries(
        {"title": _SCALARS, "id": _SCALARS, "logsource": st.just({"product": "windows", "category": "process_creation"})
         | _VALUES, "detection": st.fixed_dictionaries({"sel": st.dictionaries(
             st.sampled_from(["CommandLine", "Image|endswith", "CommandLine|re", "EventID", "x|contains|all",
                              "CommandLine|re|i", "Image|base64offset|contains"]), _VALUES, min_size=1, max_size=2),
             "condition": st.sampled_from(["sel", "not sel", "1 of sel*", "sel and", "all of them", "(sel"])})},
        optional={"level": _SCALARS, "detection_type": _SCALARS},
    )
)  # fmt: skip
def test_fuzz_rule_compiler(doc):
    from iisdetect.engine.detector import Detector
    from iisdetect.engine.ruleset import LoadReport, _load_file

    RUNS["rules"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.yml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        report = LoadReport()
        rules = _load_file(path, report, "custom")
    assert len(rules) + len(report.warnings) >= 1  # compiled, or refused with a warning naming it
    Detector(rules)
