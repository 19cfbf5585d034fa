"""The seed's AQL, verbatim, on the emulator against the native seed ruleset.

With ``--seed-compat`` (``\\\\`` read as one backslash, Sysmon rows carrying logsourcetypeid 1011)
the verbatim query returns exactly the native seed rows, column for column, except where the
seed's own SELECT CASE and WHERE disagree: an EID 11 DLL write by wusa.exe or dism.exe passes the
WHERE (which does not exclude them) but not the SELECT CASE (which does), so the seed returns it
with detection_type NULL while the native rule (following the WHERE) names it IIS_Dir_DLL_Write.
The seed also keeps only events newer than NOW() - 24 h; the native rules have no window.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from iisdetect.aql.lint import lint
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.hunting.alerts import SEED_COLUMNS
from iisdetect.model.times import parse_time
from tests.aql.seedcompare import aql_rows, as_counter, native_rows
from tests.helpers import SECURITY, ev, file_create, image_load, registry_set

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "aql" / "seed_query.aql"
SEED_FILE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_ce5dacb0786b2cec.txt"
SEED = FIXTURE.read_text(encoding="utf-8")
COMPAT = {"backslash_escapes": True, "sysmon_logsourcetypeid": 1011}
PS = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"


def test_fixture_is_the_seed_text_verbatim() -> None:
    assert SEED.startswith("SELECT\n  DATEFORMAT(starttime, 'yyyy-MM-dd HH:mm:ss') AS event_time,")
    assert SEED.rstrip("\n").endswith("ORDER BY starttime DESC")
    assert "'%\\\\system32\\\\inetsrv%'" in SEED  # the doubled backslashes, as the seed has them
    if SEED_FILE.is_file():  # the shared seed is beside the repo on project machines
        assert SEED.rstrip("\n") in SEED_FILE.read_text(encoding="utf-8")


def branch_events():
    return [
        # (a) EID 13 registry: hit, and near misses
        registry_set(r"HKLM\System\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs", r"C:\evil\f.dll"),
        registry_set(r"HKLM\SOFTWARE\Microsoft\InetStp\GlobalModules\x", r"C:\x\MOD.DLL"),
        registry_set(r"HKLM\System\CurrentControlSet\Services\W3SVC\Start", "DWORD (0x00000002)"),
        registry_set(r"HKLM\SOFTWARE\Microsoft\Windows\Run\x", r"C:\x\a.dll"),
        # (b) EID 11 DLL write: hits, installer exclusions, the CASE/WHERE mismatch, near misses
        file_create(r"C:\Windows\System32\inetsrv\df00tech-test.dll", PS),
        file_create(r"C:\inetpub\wwwroot\bin\app.DLL", r"C:\Tools\robocopy.exe"),
        file_create(r"C:\Windows\System32\inetsrv\x.dll", r"C:\Windows\System32\msiexec.exe"),
        file_create(r"C:\Windows\System32\inetsrv\evil.dll", r"C:\Users\Public\evilsetup.exe"),
        file_create(r"C:\Windows\System32\inetsrv\w.dll", r"C:\Windows\System32\wusa.exe"),
        file_create(r"C:\Windows\System32\inetsrv\d.dll", r"C:\Windows\System32\Dism.exe"),
        file_create(r"C:/Windows/System32/inetsrv/x.dll", r"C:\Tools\copy.exe"),
        file_create(r"C:\Windows\System32\inetsrv\config\applicationHost.config", r"C:\Tools\x.exe"),
        # (c) EID 7 image load: hits and near misses
        image_load(r"C:\Users\Public\evil.dll"),
        image_load(r"C:\Windows\Temp\mod.DLL"),
        image_load(r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.26010.5-0\MpOAV.dll"),
        image_load(r"C:\Windows\System32\inetsrv\iiscore.dll"),
        image_load(r"C:\Users\Public\evil.dll", image=r"C:\Windows\System32\svchost.exe"),
        image_load(r"C:\Users\Public\evil.exe"),
        # same shapes in the wrong log: Security 4663 is no Sysmon event
        ev(11, {"TargetFilename": r"C:\inetpub\x.dll", "Image": PS}, log=SECURITY),
    ]


CASE_WHERE_ROWS = {r"C:\Windows\System32\inetsrv\w.dll", r"C:\Windows\System32\inetsrv\d.dll"}


def expected_from_native(rows, newest: str):
    """Native seed rows as the verbatim seed returns them (see the module docstring)."""
    cutoff = parse_time(newest) - timedelta(hours=24)
    out = []
    for r in rows:
        if parse_time(r["_starttime"]) <= cutoff:
            continue  # outside the seed's LOGSOURCETIME(starttime) > DATEADD('hour', -24, NOW())
        if r["file_path"] in CASE_WHERE_ROWS:
            r = {**r, "detection_type": None}  # WHERE lets it through; SELECT CASE excludes wusa/dism
        out.append(r)
    return out


@pytest.fixture(scope="module")
def seed_rules():
    return load_ruleset("seed")


def test_verbatim_seed_with_compat_equals_native(seed_rules) -> None:
    events = branch_events()
    native = native_rows(seed_rules, events)
    got = aql_rows(events, SEED, **COMPAT)
    assert len(native) == 9  # 2 registry + 4 writes (incl. wusa/dism) + 3 loads
    assert as_counter(got) == as_counter(expected_from_native(native, max(e.time_created for e in events)))
    names = {r["file_path"]: r["detection_type"] for r in got if r["file_path"]}
    assert names[r"C:\Windows\System32\inetsrv\w.dll"] is None  # the named CASE/WHERE rows
    assert names[r"C:\Windows\System32\inetsrv\d.dll"] is None
    assert names[r"C:\Windows\System32\inetsrv\df00tech-test.dll"] == "IIS_Dir_DLL_Write"
    assert list(got[0]) == list(SEED_COLUMNS)


def test_verbatim_seed_true_aql_semantics_returns_nothing() -> None:
    """Real AQL: logsourcetypeid 1011 matches no row (Sysmon is devicetype 12)."""
    assert aql_rows(branch_events(), SEED) == []
    assert aql_rows(branch_events(), SEED, backslash_escapes=True) == []


def test_doubled_backslashes_kill_the_eid_11_and_7_branches() -> None:
    """With 1011 mapped but backslashes literal, only the registry branch (no backslashes) survives."""
    rows = aql_rows(branch_events(), SEED, sysmon_logsourcetypeid=1011)
    assert {r["detection_type"] for r in rows} == {"IIS_Component_Registration"}
    assert len(rows) == 2


def at(event, time: str):
    event.time_created = time
    return event


def test_seed_window_is_24h_before_newest_event(seed_rules) -> None:
    old = at(image_load(r"C:\Users\Public\old.dll"), "2024-04-30T10:15:30.000000Z")
    events = [old, *branch_events()]
    got = aql_rows(events, SEED, **COMPAT)
    assert r"C:\Users\Public\old.dll" not in {r["loaded_dll"] for r in got}
    native = native_rows(seed_rules, events)
    assert r"C:\Users\Public\old.dll" in {r["loaded_dll"] for r in native}
    assert as_counter(got) == as_counter(expected_from_native(native, max(e.time_created for e in events)))


def test_order_is_newest_first() -> None:
    a = at(image_load(r"C:\Users\Public\a.dll"), "2024-05-02T10:00:00.000000Z")
    b = at(image_load(r"C:\Users\Public\b.dll"), "2024-05-02T11:00:00.000000Z")
    got = aql_rows([a, b], SEED, **COMPAT)
    assert [r["loaded_dll"] for r in got] == [r"C:\Users\Public\b.dll", r"C:\Users\Public\a.dll"]


def test_simulated_scenarios(seed_rules) -> None:
    from iisdetect.simulate import load_scenarios, scenario_stream

    scenarios = load_scenarios()
    assert scenarios
    seen: set[str] = set()
    for scn in scenarios:
        events = [s.event for s in scenario_stream(scn, seed=3, background_events=3000)]
        native = native_rows(seed_rules, events)
        got = aql_rows(events, SEED, **COMPAT)
        expected = expected_from_native(native, max(e.time_created for e in events))
        assert as_counter(got) == as_counter(expected), scn.id
        seen |= {r["detection_type"] for r in got}
    assert {"IIS_Non_Standard_Module_Load", "IIS_Dir_DLL_Write", "IIS_Component_Registration"} <= seen


def test_lint_explains_each_switch() -> None:
    kinds = {f.kind: f.message for f in lint(SEED)}
    assert "--sysmon-logsourcetypeid 1011" in kinds["unknown-log-source-type"]
    assert "--backslash-escapes" in kinds["never-matches"]
    assert {"case-where-mismatch", "substring-exclusion", "redundant-pattern", "not-ibm-function"} <= set(kinds)
    assert "wusa.exe" in kinds["case-where-mismatch"] or any(
        "wusa.exe" in f.message for f in lint(SEED) if f.kind == "case-where-mismatch"
    )


def test_windows_temp_pattern_is_redundant_so_case_and_where_agree_on_loads() -> None:
    """The CASE's extra '\\Windows\\Temp\\' is inside '\\Temp\\': no row differs for EID 7."""
    e = image_load(r"C:\Windows\Temp\x.dll")
    rows = aql_rows([e], SEED, **COMPAT)
    assert [r["detection_type"] for r in rows] == ["IIS_Non_Standard_Module_Load"]


def _example_logs() -> list[str]:
    root = Path(__file__).resolve().parents[2] / "examples"
    skip = {".yaml", ".yml", ".md", ".txt", ".aql", ".csv", ".sh"}
    logs = (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in skip)
    return sorted(str(p) for p in logs if "triage" not in p.relative_to(root).parts)  # triage/: audit's package


def test_bundled_examples(seed_rules) -> None:
    """Every log shipped in examples/, read by the real readers: verbatim seed + compat == native."""
    from iisdetect.model.stats import RunStats
    from iisdetect.readers import iter_events

    paths = _example_logs()
    if not paths:
        pytest.skip("no example logs bundled in examples/ yet")
    total = 0
    for path in paths:  # one host's story per file; the seed's 24 h window is relative to its newest event
        events = list(iter_events([path], RunStats()))
        assert events, path
        native = native_rows(seed_rules, events)
        got = aql_rows(events, SEED, **COMPAT)
        assert as_counter(got) == as_counter(expected_from_native(native, max(e.time_created for e in events))), path
        total += len(got)
    assert total >= 5
