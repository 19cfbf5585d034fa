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
