"""``api.hunt`` over the whole real corpus: the accounting balances and the seed's alerts are pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisdetect.hunting.run import HuntOptions, hunt


@pytest.fixture(scope="module")
def corpus_path() -> Path:
    from tests.conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"real-data corpus not found at {CORPUS}")
    return CORPUS


def test_corpus_accounting_balances_and_seed_is_silent(corpus_path: Path) -> None:
    result = hunt(HuntOptions(paths=[str(corpus_path)], ruleset="seed", correlate_window=None))
    stats = result.stats
    # every record seen is either parsed or skipped with a reason and a location
    assert stats.records_seen == stats.records_read + stats.records_skipped == 186_613
    assert stats.records_read == 186_598
    assert dict(stats.skipped_by_reason) == {"evtx chunk error": 10, "evtx record error": 5}
    assert all(s.source and s.locator and s.reason for s in stats.skips)
    assert stats.files == 577 and stats.files_failed == 0
    # Pinned: the seed rule raises no alert on the public corpus. Checked independently: the corpus has
    # no w3wp image load from \Users\ \Temp\ \ProgramData\ \AppData\, no .dll written under \inetsrv or
    # \inetpub, and no registry value under W3SVC/ISAPI/GlobalModules/inetsrv naming a .dll.
    assert result.alerts == []
