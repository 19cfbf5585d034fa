"""``iisdetect aql`` and ``iisdetect export`` end to end, through the CLI and the real readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "aql" / "seed_query.aql"


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    from iisdetect.simulate import load_scenarios, scenario_stream
    from iisdetect.simulate.writers import write

    scn = next(s for s in load_scenarios() if s.id == "seed_test2_write_dll_inetsrv")
    path = tmp_path_factory.mktemp("logs") / "scenario.json"
    with path.open("wb") as fh:
        write(scenario_stream(scn, seed=1, background_events=300), "evtx-json", fh)
    return path


def test_lint_exit_code_and_kinds(capsys) -> None:
    assert main(["aql", "--lint", "--file", str(SEED)]) == 1
    out = capsys.readouterr().out
    for kind in ("unknown-log-source-type", "never-matches", "case-where-mismatch", "substring-exclusion",
                 "redundant-pattern", "unknown-property"):  # fmt: skip
        assert f"[{kind}]" in out
    assert main(["aql", "--lint", 'SELECT "Process Path" FROM events WHERE devicetype = 12 LAST 1 HOURS']) == 0


def test_seed_compat_on_logs_and_db_reuse(logs: Path, tmp_path: Path, capsys) -> None:
    db = tmp_path / "events.duckdb"
    assert main(["aql", "--file", str(SEED), "--seed-compat", str(logs), "--db", str(db), "--format", "json"]) == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["now_source"] == "newest event"
    assert "now = " in cap.err and "(newest event)" in cap.err
    kinds = {r["detection_type"] for r in doc["rows"]}
    assert "IIS_Dir_DLL_Write" in kinds
    # the same table, queried again without reloading; verbatim AQL semantics: nothing
    assert main(["aql", "--file", str(SEED), "--db", str(db), "--format", "ndjson"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["aql", "SELECT COUNT(*) AS n FROM events", "--db", str(db), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == str(sum(1 for _ in logs.open()))


def test_export_runs_in_the_emulator_and_agrees_with_hunt(logs: Path, tmp_path: Path, capsys) -> None:
    query = tmp_path / "seed.aql"
    assert main(["export", "--target", "qradar", "--ruleset", "seed", "-o", str(query)]) == 0
    capsys.readouterr()
    assert main(["aql", "--file", str(query), str(logs), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert main(["hunt", str(logs), "--ruleset", "seed", "--no-correlate", "--format", "ndjson", "--no-progress"]) == 0
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    alerts = [a for a in alerts if "detection_type" in a]
    assert rows and len(rows) == len(alerts)
    key = ("event_time", "detection_type", "file_path", "loaded_dll", "registry_key")
    got = sorted(tuple(str(r[k]) for k in key) for r in rows)
    assert got == sorted(tuple(str(a.get(k)) for k in key) for a in alerts)


def test_usage_errors(capsys) -> None:
    assert main(["aql", "SELECT * FROM events"]) == 2
    assert "give log PATHs" in capsys.readouterr().err
    assert main(["aql", "--file", "/nonexistent.aql", "x"]) == 2
    assert main(["export", "--target", "qradar", "--last", "soon"]) == 2


def test_export_split_and_properties(tmp_path: Path, capsys) -> None:
    out = tmp_path / "split"
    props = tmp_path / "props.json"
    assert main(["export", "--target", "qradar", "--ruleset", "seed", "--split", "-o", str(out),
                 "--properties", str(props)]) == 0  # fmt: skip
    files = sorted(p.name for p in out.iterdir())
    from iisdetect.engine.ruleset import load_ruleset

    assert files == sorted(f"{r.id}.aql" for r in load_ruleset("seed"))
    doc = json.loads(props.read_text())
    assert {"Process Path", "Filename", "Object Name"} <= {p["name"] for p in doc["regex_properties"]}
    assert main(["export", "--target", "qradar", "--split"]) == 2
    assert "--split" in capsys.readouterr().err


def test_jobs_load_gives_the_same_rows(logs: Path, corpus: Path, monkeypatch, capsys) -> None:
    from tests.aql.test_parallel_load import _small_units

    _small_units(monkeypatch)  # several runs for the workers out of these small files
    paths = [str(corpus / "EVTX-ATTACK-SAMPLES"), str(logs)]
    out = {}
    for jobs in ("1", "2"):
        assert main(["aql", "--file", str(SEED), "--seed-compat", *paths, "--format", "json", "--jobs", jobs]) == 0
        cap = capsys.readouterr()
        out[jobs] = json.loads(cap.out)["rows"]
        assert "loaded 8" in cap.err  # 8,000-odd corpus events plus the scenario's
    assert out["1"] == out["2"] and {r["detection_type"] for r in out["1"]} >= {"IIS_Dir_DLL_Write"}
    assert main(["aql", "SELECT 1 FROM events", str(logs), "--jobs", "-1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "iisdetect: error: --jobs must be 0 (auto) or a positive number"
    ]
