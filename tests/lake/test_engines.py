"""hunt --engine duckdb|spark over the converted lake gives native hunt's (rule, record) pairs exactly.

Every scenario (attacks and benign vendor activity) plus background, in three log shapes, for the
seed, iis and all rulesets, untuned and with the example tuning: kept alerts and suppressed alerts
(with the tuning entry that suppressed them) must be the same sets. The three shapes hold the same
events, so native hunt runs with ``dedupe=False``: the lake engines do not look for repeated events.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import iisdetect
from tests.lake.conftest import TUNING

CASES = [(rs, tun) for rs in ("seed", "iis", "all") for tun in (None, TUNING)]


def pairs(result: iisdetect.api.HuntResult) -> tuple[set, set]:  # type: ignore[name-defined]
    kept = {(a.rule.id, a.event.source, a.event.locator) for a in result.alerts}
    gone = {(a.rule.id, a.event.source, a.event.locator, entry) for a, entry in result.suppressed}
    return kept, gone


@pytest.fixture(scope="module")
def native(sim_dir: Path) -> dict:
    return {
        (rs, tun): pairs(iisdetect.hunt([str(sim_dir)], ruleset=rs, tuning=tun, correlate_window=None, dedupe=False))
        for rs, tun in CASES
    }


@pytest.mark.parametrize(("ruleset", "tuning"), CASES, ids=[f"{r}-{'tuned' if t else 'untuned'}" for r, t in CASES])
def test_duckdb_equals_native(lake_dir: Path, native: dict, ruleset: str, tuning: Path | None) -> None:
    result = iisdetect.hunt([str(lake_dir)], ruleset=ruleset, tuning=tuning, correlate_window=None, engine="duckdb")
    kept, gone = pairs(result)
    want_kept, want_gone = native[(ruleset, tuning)]
    assert want_kept, "the scenarios must make this ruleset fire"
    assert kept == want_kept
    assert gone == want_gone
    assert (tuning is None) == (not gone)


def test_spark_equals_native(spark_available: None, lake_dir: Path, native: dict) -> None:
    """One Spark local[2] session for all six cases (start-up dominates a Spark run)."""
    for ruleset, tuning in CASES:
        result = iisdetect.hunt(
            [str(lake_dir)], ruleset=ruleset, tuning=tuning, correlate_window=None,
            engine="spark", spark_master="local[2]",
        )  # fmt: skip
        assert pairs(result) == native[(ruleset, tuning)], (ruleset, tuning)


def test_lake_hunt_correlates_and_accounts_like_native(sim_dir: Path, lake_dir: Path) -> None:
    lake = iisdetect.hunt([str(lake_dir)], tuning=TUNING, engine="duckdb")
    nat = iisdetect.hunt([str(sim_dir)], tuning=TUNING, dedupe=False)
    assert lake.stats.records_read == nat.stats.records_read
    assert lake.stats.alerts_by_type == nat.stats.alerts_by_type
    assert lake.stats.suppressed_by_entry == nat.stats.suppressed_by_entry
    summarise = lambda res: sorted((i.host, i.level, len(i.alerts), i.joined) for i in res.incidents)  # noqa: E731
    assert summarise(lake) == summarise(nat)


def test_since_until_are_applied_in_sql(sim_dir: Path, lake_dir: Path) -> None:
    from datetime import UTC, datetime

    since, until = datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 5, 6, tzinfo=UTC)
    lake = iisdetect.hunt([str(lake_dir)], since=since, until=until, correlate_window=None, engine="duckdb")
    nat = iisdetect.hunt([str(sim_dir)], since=since, until=until, correlate_window=None, dedupe=False)
    assert pairs(lake) == pairs(nat)
    assert lake.stats.filtered_by_time == nat.stats.filtered_by_time > 0


def test_no_parquet_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(iisdetect.UsageError, match="no Parquet files"):
        iisdetect.hunt([str(tmp_path)], engine="duckdb")
