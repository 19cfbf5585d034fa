"""Several processes give exactly the one-process result: same events, same alerts, same accounting."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisdetect.hunting import parallel
from iisdetect.hunting.run import HuntOptions, hunt
from iisdetect.readers.evtx import chunk_count, read_slice


def _key(result) -> list[tuple[str, str, str]]:
    return [(a.rule.id, a.event.source, a.event.locator) for a in result.alerts]


def test_evtx_slices_cover_every_record_once(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = corpus / "omerbenamram-evtx/samples/security.evtx"
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 1024)  # force splitting this 2 MiB file
    monkeypatch.setattr(parallel, "SLICE_CHUNKS", 5)
    units = parallel.plan_units([str(path)])
    assert len(units) == -(-chunk_count(str(path)) // 5) > 1
    one = hunt(HuntOptions(paths=[str(path)], ruleset="seed"))
    many = hunt(HuntOptions(paths=[str(path)], ruleset="seed", jobs=2))
    assert one.stats.records_read == many.stats.records_read == 2261
    assert many.stats.files == 1 and many.stats.formats["evtx"] == 1


def test_read_slice_is_a_valid_evtx_image(corpus: Path) -> None:
    import io

    import evtx

    path = str(corpus / "omerbenamram-evtx/samples/security.evtx")
    total = sum(1 for _ in evtx.PyEvtxParser(path).records_json())
    parts = sum(
        sum(1 for _ in evtx.PyEvtxParser(io.BytesIO(read_slice(path, first, 3))).records_json())
        for first in range(0, chunk_count(path), 3)
    )
    assert parts == total


def test_parallel_corpus_run_equals_sequential(corpus: Path, tmp_path: Path) -> None:
    # a folder with a seed-positive event among real files, so alert equality is not vacuous
    from tests.commands.test_hunt import evtx_json_line
    from tests.helpers import image_load

    (tmp_path / "pos.jsonl").write_bytes(evtx_json_line(image_load(r"C:\Users\Public\x.dll"), 7) + b"\n")
    paths = [str(corpus / "EVTX-ATTACK-SAMPLES"), str(tmp_path)]
    one = hunt(HuntOptions(paths=paths, ruleset="seed"))
    many = hunt(HuntOptions(paths=paths, ruleset="seed", jobs=2))
    assert _key(one) == _key(many) and len(one.alerts) == 1
    assert one.stats.to_dict() == many.stats.to_dict()


def _ndjson_with_traps(path: Path) -> list[int]:
    """An evtx-json file with seed-positive lines, a damaged line, blank and not-an-event lines; returns
    the byte offset at which each line starts (to aim range cuts at awkward places)."""
    from tests.commands.test_hunt import evtx_json_line
    from tests.helpers import image_load

    lines: list[bytes] = []
    for i in range(1, 121):
        dll = rf"C:\Users\Public\p{i}.dll" if i % 7 == 0 else rf"C:\Windows\System32\ok{i}.dll"
        lines.append(evtx_json_line(image_load(dll), i))
        if i == 40:
            lines.append(b'{"Event": {"System": ')  # damaged: cut short
        if i == 80:
            lines.extend([b"", b"   ", b'{"not": "an event"}'])
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return starts


def _result_key(result) -> tuple:
    return (
        [(a.rule.id, a.event.source, a.event.locator, a.event.record_id) for a in result.alerts],
        result.stats.to_dict(),
    )


@pytest.mark.parametrize("jobs", [2, 3])
def test_ndjson_split_by_lines_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    path = tmp_path / "big.jsonl"
    starts = _ndjson_with_traps(path)
    damaged = starts[40]  # the line after record 40
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 1024)
    # one cut exactly at the damaged line's first byte, one inside it, one inside a normal line
    for target in (damaged, damaged + 5, starts[10] + 3):
        monkeypatch.setattr(parallel, "SLICE_BYTES", target)
        units = parallel.plan_units([str(path)])
        assert len(units) > 2 and all(u.line and u.fmt == "evtx-json" for u in units)
        one = hunt(HuntOptions(paths=[str(path)], ruleset="seed"))
        many = hunt(HuntOptions(paths=[str(path)], ruleset="seed", jobs=jobs))
        assert _result_key(one) == _result_key(many)
        assert len(one.alerts) == 17  # records 7, 14, ..., 119 (ImageLoaded under C:\Users\Public)
        # absolute line numbers: record 7 is line 7; record 119 comes after the damaged line and 3 extra lines
        assert [a.event.locator for a in one.alerts][:1] == ["line 7"]
        assert many.alerts[-1].event.locator == "line 123" and many.alerts[-1].event.record_id == 119
        assert one.stats.skips == many.stats.skips
        skips = {(s.locator, s.reason) for s in many.stats.skips}
        assert ("line 41", "bad json") in skips and ("line 84", "not an event") in skips
        assert many.stats.records_read == 120 and many.stats.files == 1 and many.stats.formats["evtx-json"] == 1


def test_line_ranges_cover_the_file_on_line_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    data = b'{"a": 1}\n\n{"bb": 22}\r\n{"c": 3}\n{"long": "' + b"x" * 50 + b'"}\n{"d": 4}'  # no final newline
    path.write_bytes(data)
    for target, block in ((t, b) for t in range(1, len(data) + 2) for b in (1, 2, 7, 64, 1 << 20)):
        units = parallel.line_ranges(str(path), target, "flat-json", block=block)
        assert all(u.count > u.first for u in units)
        assert b"".join(data[u.first : u.count] for u in units) == data
        for u in units:
            assert u.first == 0 or data[u.first - 1 : u.first] == b"\n"  # each range starts a line
            assert u.line == data[: u.first].count(b"\n") + 1


def test_gzip_and_arrays_are_not_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    monkeypatch.setattr(parallel, "SPLIT_BYTES", 10)
    plain = tmp_path / "a.jsonl"
    _ndjson_with_traps(plain)
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    array = tmp_path / "arr.json"
    array.write_bytes(b"[" + plain.read_bytes().split(b"\n")[0] + b"]")
    assert [u.first for u in parallel.plan_units([str(gz)])] == [-1]
    assert [u.first for u in parallel.plan_units([str(array)])] == [-1]
    assert len(parallel.plan_units([str(plain)])) == 1  # below SLICE_BYTES: one range


def test_jobs_are_clamped_to_cores_and_units(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    assert parallel.clamp_jobs(100_000, 50) == (4, "--jobs 100000 lowered to 4 (2 per usable core)")
    assert parallel.clamp_jobs(3, 2) == (2, None)  # fewer units than workers: not worth a note
    assert parallel.clamp_jobs(4, 10) == (4, None)
    path = tmp_path / "big.jsonl"
    _ndjson_with_traps(path)
    monkeypatch.setattr(parallel, "SPLIT_BYTES", 1024)
    monkeypatch.setattr(parallel, "SLICE_BYTES", 2048)
    seen: list[int] = []
    real = parallel.run_parallel

    def spy(units, jobs, factory):  # noqa: ANN001, ANN202
        seen.append(jobs)
        return real(units, jobs, factory)

    monkeypatch.setattr(parallel, "run_parallel", spy)
    many = hunt(HuntOptions(paths=[str(path)], ruleset="seed", jobs=100_000))
    assert seen == [4] and many.notes == ["--jobs 100000 lowered to 4 (2 per usable core)"]
    assert len(many.alerts) == 17


def test_usable_cores_follows_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no sched_getaffinity on this OS")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert parallel.usable_cores() == 1


def test_reader_limits_reach_workers_that_do_not_fork(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--limit`` sets the parent's LIMITS; a spawned worker (macOS, Windows; forkserver on Python 3.14)
    re-imports the defaults, so the pool hands the values over (parallel._init_worker)."""
    import concurrent.futures
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from iisdetect.readers.limits import LIMITS

    flat = (Path(__file__).resolve().parents[1] / "fixtures/readers/shapes/events.flat.json").read_bytes()
    line = flat.splitlines(keepends=True)[0]
    for name in ("a.jsonl", "b.jsonl"):  # one good line, one over 10 KiB: two whole-file units
        (tmp_path / name).write_bytes(line + line.replace(b"{", b'{"Pad": "' + b"A" * 20_000 + b'", ', 1))
    spawn = partial(ProcessPoolExecutor, mp_context=multiprocessing.get_context("spawn"))
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", spawn)  # parallel imports it when used
    monkeypatch.setattr(LIMITS, "max_line", 10 << 10)
    many = hunt(HuntOptions(paths=[str(tmp_path)], ruleset="seed", jobs=2))
    assert many.stats.records_read == 2 and dict(many.stats.skipped_by_reason) == {"line too long": 2}


def test_units_in_flight_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finished units wait in the parent until their turn: never more than IN_FLIGHT_PER_JOB x jobs
    submitted and unconsumed (pool.map submitted all of them: 1M alerts peaked at 1.0 GB)."""
    import concurrent.futures

    state = {"submitted": 0, "consumed": 0, "most": 0}

    class Done:
        def __init__(self, value: object) -> None:
            self.value = value

        def result(self) -> object:
            return self.value

    class FakePool:
        def __init__(self, *a: object, **k: object) -> None:
            pass

        def __enter__(self) -> FakePool:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def submit(self, fn: object, unit: int) -> Done:
            state["submitted"] += 1
            state["most"] = max(state["most"], state["submitted"] - state["consumed"])
            return Done(unit)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", FakePool)
    out = []
    for unit in parallel.run_parallel(list(range(20)), 3, lambda: None):  # type: ignore[arg-type]
        state["consumed"] += 1
        out.append(unit)
    assert out == list(range(20))  # in order, every unit once
    assert state["most"] == parallel.IN_FLIGHT_PER_JOB * 3 + 1  # the window, and the unit being consumed
