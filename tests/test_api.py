"""The public library surface (``import iisdetect``): every name works, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import iisdetect

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEAVY = ("sigma", "duckdb", "sqlglot", "rich")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return {m.split(".")[0] for m in out}


def test_import_and_version_load_no_heavy_dependency() -> None:
    assert not _loaded_after("import iisdetect") & set(HEAVY)
    mods = _loaded_after("from iisdetect.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass")
    assert not mods & set(HEAVY)


def test_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    from iisdetect.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"iisdetect {iisdetect.__version__}\n"


def test_all_names_resolve() -> None:
    for name in iisdetect.__all__:
        assert getattr(iisdetect, name) is not None
    with pytest.raises(AttributeError):
        iisdetect.nope  # noqa: B018


def test_hunt_api_on_examples() -> None:
    result = iisdetect.hunt([str(EXAMPLES)], tuning=EXAMPLES / "tuning.example.yaml")
    fired = {(a.rule.detection_type, a.event.computer) for a in result.alerts}
    assert ("IIS_Untrusted_Module_Load", "WEB02.corp.local") in fired
    assert {h for t, h in fired if t == "IIS_Module_Load_Failed"} == {"WEB04.corp.local"}
    assert result.stats.records_read == 283 and result.incidents


def test_export_api_applies_the_shared_duration_grammar() -> None:
    aql = iisdetect.export("qradar", ruleset="seed", last="2w")
    assert aql.rstrip().endswith("LAST 14 DAYS") and "IIS_Dir_DLL_Write" in aql
    with pytest.raises(iisdetect.UsageError):
        iisdetect.export("splunk-but-unknown")


def test_run_aql_and_lint_api() -> None:
    result = iisdetect.run_aql("SELECT COUNT(*) AS n FROM events", [str(EXAMPLES)])
    assert result.rows == [(283,)]
    assert any("1011" in f.line() for f in iisdetect.lint_aql("SELECT * FROM events WHERE logsourcetypeid = 1011"))


def test_validate_api() -> None:
    report = iisdetect.validate("seed", scenarios=["seed_test2_write_dll_inetsrv"], background_events=0)
    assert report.ok
