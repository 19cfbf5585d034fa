"""Finding 1/2 of ../shared/reference/hostile-inputs.md: damaged EVTX never loses records silently.

Every reproducer is a damaged copy of corpus security.evtx (2,261 records). Records in = read +
skipped: exactly 2,261 where the damage leaves the chunk headers around it, and 2,225 where the file's
tail is gone (the file header's stale next-record id, 2226, is all the file still says; a lower bound).
"""

from __future__ import annotations

import pytest

from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events

# reproducer -> (records read, records accounted, {reason: records}, locator of the first loss)
EXPECTED = {
    "evtx_truncated_mid.evtx": (927, 2225, {"evtx truncated": 1298}, "chunk 10 (offset 659456)"),
    "evtx_chunk3_zeroed.evtx": (2172, 2261, {"evtx chunk error": 89}, "chunk 3 (offset 200704)"),
    "evtx_chunk3_freespace512.evtx": (2172, 2261, {"evtx records missing": 89}, "chunk 3 (offset 200704)"),
    "evtx_rec_magic_zeroed.evtx": (2181, 2261, {"evtx records missing": 80}, "chunk 3 (offset 200704)"),
    "evtx_rec_size0.evtx": (2181, 2261, {"evtx record error": 80}, "chunk 3 (offset 200704)"),
    "evtx_del1byte_chunk5.evtx": (463, 2225, {"evtx record error": 67, "evtx chunk error": 1695},
                                  "chunk 5 (offset 331776)"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_record_is_read_or_counted(hostile, name):
    read, total, reasons, first_loss = EXPECTED[name]
    stats = RunStats()
    events = list(iter_events([str(hostile / name)], stats))
    assert len(events) == stats.records_read == read
    assert stats.records_read + stats.records_skipped == total
    assert dict(stats.skipped_by_reason) == reasons
    assert stats.skips[0].locator == first_loss and stats.skips[0].source == str(hostile / name)
    assert sum(s.count for s in stats.skips) == stats.records_skipped  # every loss is located


def test_jobs_slices_account_the_same_with_absolute_chunk_numbers(hostile, monkeypatch):
    from iisdetect.hunting import parallel
    from iisdetect.hunting.run import HuntOptions, hunt

    monkeypatch.setattr(parallel, "SPLIT_BYTES", 1)
    monkeypatch.setattr(parallel, "SLICE_CHUNKS", 4)
    paths = [str(hostile / "evtx_chunk3_zeroed.evtx"), str(hostile / "evtx_truncated_mid.evtx")]
    result = hunt(HuntOptions(paths=paths, ruleset="seed", correlate_window=None, jobs=2))
    stats = result.stats
    assert stats.records_read == 2172 + 927 and stats.records_skipped == 89 + 1298
    assert {s.locator for s in stats.skips} == {
        "chunk 3 (offset 200704)", "chunk 10 (offset 659456)", "chunks 11-25 (offset 724992)"}  # fmt: skip
