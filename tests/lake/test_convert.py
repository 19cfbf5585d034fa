"""iisdetect convert: canonical columns, day partitions, bounded batches, append, hostile host names."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from iisdetect.cli import main
from iisdetect.lake import convert as convert_mod
from iisdetect.lake.convert import convert
from iisdetect.lake.schema import lake_schema, partition_dir
from iisdetect.model.event import Event
from tests.helpers import example_records
from tests.lake.conftest import EXAMPLES


def _event(computer: str = "WEB01", time: str = "2026-11-20T10:00:00.000000Z", data: dict | None = None) -> Event:
    return Event("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 7, computer, time, 5, None,
                 data or {"Image": r"C:\w3wp.exe"})  # fmt: skip


def test_examples_convert_with_every_field(tmp_path: Path) -> None:
    result = convert([str(EXAMPLES)], str(tmp_path))
    assert result.rows == result.stats.records_read == example_records()
    assert all(p.startswith("day=") for p in result.partitions)
    table = pq.read_table(result.files[0])
    names = table.schema.names
    assert names[: len(lake_schema().system) + 1] == [*lake_schema().system, "data"]
    assert str(table.schema.field("EventID").type) == "int64"
    row = table.slice(0, 1).to_pylist()[0]
    assert row["data"] and all(row.get(k) == v for k, v in row["data"] if k in names)  # wide == map


def test_batches_bound_memory_and_rerun_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = lake_schema().__class__(**{**lake_schema().__dict__, "batch_rows": 40})
    monkeypatch.setattr(convert_mod, "lake_schema", lambda: small)
    first = convert([str(EXAMPLES)], str(tmp_path))
    assert len(first.files) > 7  # every example row in batches of 40
    second = convert([str(EXAMPLES)], str(tmp_path))
    files = sorted(tmp_path.rglob("*.parquet"))
    assert len(files) == len(first.files) + len(second.files)
    assert sum(pq.read_metadata(f).num_rows for f in files) == 2 * example_records()


def test_partition_values_never_become_paths() -> None:
    ev = _event(computer="../../etc/x")
    assert partition_dir(ev, ("day", "host")) == "day=2026-11-20/host=..%2F..%2Fetc%2Fx"
    assert partition_dir(_event(time=""), ("day",)) == "day=unknown"


def test_hostile_field_names_stay_in_the_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"EventID": "1", "a b": "x", "data": "y", **{f"F{i}": "v" for i in range(300)}}
    fake = lambda paths, stats, on_progress=None: iter([_event(data=data)])  # noqa: E731
    monkeypatch.setattr("iisdetect.readers.iter_events", fake)
    result = convert(["-"], str(tmp_path))
    table = pq.read_table(result.files[0])
    names = table.schema.names
    assert names.count("EventID") == 1 and "a b" not in names and names.count("data") == 1
    assert len(names) - len(lake_schema().system) - 1 == lake_schema().max_wide_columns
    assert dict(table.to_pylist()[0]["data"]) == data


def test_cli_convert_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(EXAMPLES), "-o", str(tmp_path / "lake"), "--partition-host"]) == 0
    assert f"wrote {example_records()} rows" in capsys.readouterr().err
    assert any("host=WEB01.corp.local" in str(p) for p in (tmp_path / "lake").rglob("*.parquet"))
    (tmp_path / "file").write_text("x")
    assert main(["convert", str(EXAMPLES), "-o", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["convert", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 1
