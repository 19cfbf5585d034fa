"""Stacking: what is counted, by host, rarest first, baseline flags; the AQL hunts count the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.hunting.stack import stack_events
from iisdetect.hunting.stack_queries import qradar_queries
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.helpers import SECURITY, ev, example_records, file_create, image_load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IIS = ("Microsoft-IIS-Configuration/Operational", "Microsoft-IIS-Configuration")
SHA_A = "SHA256=" + "A" * 64
SHA_B = "SHA256=" + "B" * 64


def eid29(cfg: str, new: str, host: str = "WEB01.corp.local", t: str = "2024-05-02T10:00:00.100000Z", op: str = "1"):
    return ev(29, {"Configuration": cfg, "NewValue": new, "OldValue": "", "EditOperationType": op}, log=IIS,
              computer=host, time=t)  # fmt: skip


def by_item(entries):  # noqa: ANN001, ANN201
    return {(e.kind, e.item): e for e in entries}


def test_w3wp_loads_stacked_by_host_rarest_first_with_baseline_flags() -> None:
    common = r"C:\Windows\System32\inetsrv\cachuri.dll"  # UriCacheModule in the baseline
    events = [
        image_load(common, Hashes=SHA_A, Signature="Microsoft Windows"),
        ev(
            7,
            {**image_load(common, Hashes=SHA_A).data},
            computer="WEB02.corp.local",
            time="2024-05-03T10:00:00.000000Z",
        ),
        image_load(r"C:\Windows\Temp\perf.dll", Hashes=SHA_B, Signed="false", Signature="", SignatureStatus=""),
        image_load(common, Hashes=SHA_A, Signature="Evil Corp", SignatureStatus="Valid"),
        # a neighbour: not w3wp, never stacked
        image_load(r"C:\Windows\Temp\other.dll", image=r"C:\Windows\explorer.exe"),
    ]
    entries = stack_events(events)
    loads = [e for e in entries if e.kind == "dll_load"]
    assert [e.item for e in loads][-1] == common and len(loads) == 3
    known = loads[-1]
    assert known.hosts == {"WEB01.corp.local": 1, "WEB02.corp.local": 1} and known.detail == "A" * 64
    assert known.baseline == "known" and not known.flagged
    assert known.first == "2024-05-02T10:15:30.123456Z" and known.last == "2024-05-03T10:00:00.000000Z"
    evil = by_item(loads)[("dll_load", r"C:\Windows\Temp\perf.dll")]
    assert evil.baseline == "not_in_baseline" and evil.flagged and evil.signer == "unsigned"
    resigned = next(e for e in loads if e.signer.startswith("Evil Corp"))
    assert resigned.item == common and resigned.baseline == "mismatch" and resigned.flagged
    assert not [e for e in entries if "other.dll" in e.item]


def test_eid29_attribute_events_of_one_change_count_once_and_join_the_command() -> None:
    name = "/system.webServer/globalModules/add[@name='PerfCounterModule']"
    events = [
        eid29(name + "/@name", "PerfCounterModule"),
        eid29(name + "/@image", r"C:\Windows\Temp\perfmon.dll"),
        eid29(name + "/@preCondition", "bitness64"),
        ev(1, {"Image": r"C:\Windows\System32\inetsrv\appcmd.exe",
               "CommandLine": r"appcmd.exe install module /name:PerfCounterModule /image:C:\Windows\Temp\perfmon.dll"}),
        eid29("/system.webServer/modules/add[@name='RewriteModule']/@name", "RewriteModule", host="WEB02.corp.local"),
        eid29(name + "/@name", "", op="3", t="2024-05-02T11:00:00.000000Z"),
        eid29(name + "/@image", "", op="3", t="2024-05-02T11:00:00.300000Z"),
        eid29("/system.webServer/httpLogging/@dontLog", "true"),
    ]  # fmt: skip
    entries = by_item(stack_events(events))
    perf = entries[("registration", "PerfCounterModule")]
    assert perf.events == 2 and perf.via == {"eid 29 globalModules", "command (EID 1)"}
    assert perf.detail == r"C:\Windows\Temp\perfmon.dll" and perf.baseline == "unknown" and perf.flagged
    rewrite = entries[("registration", "RewriteModule")]  # enabled by name only: one change, known module
    assert rewrite.events == 1 and rewrite.hosts == {"WEB02.corp.local": 1} and rewrite.baseline == "known"
    removed = entries[("config_change", "removed globalModules PerfCounterModule")]
    assert removed.events == 1
    assert entries[("config_change", "/system.webServer/httpLogging/@dontLog")].detail == "true"


def test_config_file_writes_by_writer_and_history_snapshots_left_out() -> None:
    host = r"C:\Windows\System32\inetsrv\config\applicationHost.config"
    events = [
        file_create(host, r"C:\Windows\System32\notepad.exe"),
        file_create(
            r"C:\inetpub\history\CFGHISTORY_0000000008\applicationHost.config", r"C:\Windows\System32\svchost.exe"
        ),
        ev(4663, {"ObjectName": host, "ProcessName": r"C:\Windows\System32\notepad.exe"}, log=SECURITY),
    ]  # fmt: skip
    entries = [e for e in stack_events(events) if e.kind == "config_change"]
    assert len(entries) == 1 and entries[0].events == 2 and entries[0].detail.endswith("notepad.exe")


def _examples():  # noqa: ANN202
    return list(iter_events([str(EXAMPLES)], RunStats()))


def test_qradar_stacking_queries_count_what_the_native_stack_counts() -> None:
    from iisdetect.aql import Emulator

    events = _examples()
    native = {
        (e.item.lower(), e.detail): (len(e.hosts), e.events) for e in stack_events(events) if e.kind == "dll_load"
    }
    emu = Emulator()
    emu.load(events)
    rows = emu.query(qradar_queries(days=36500)["dll_loads"]).rows
    aql = {}
    for path, hashes, _signer, _status, hosts, n, _first, _last in rows:
        sha = next((h.split("=", 1)[1] for h in (hashes or "").split(",") if h.startswith("SHA256=")), "")
        aql[(path.lower(), sha)] = (hosts, n)
    assert aql == native
    for name, query in qradar_queries(days=36500).items():
        assert emu.query(query).rows, name  # each hunt finds something in the examples
    ordered = [(r[4], r[5]) for r in rows]
    assert ordered == sorted(ordered)  # rarest first


def test_lake_stacking_queries_count_what_the_native_stack_counts(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from iisdetect.hunting.stack_queries import lake_queries
    from iisdetect.lake.convert import convert
    from iisdetect.lake.engines import open_engine, parquet_files

    events = _examples()
    native = {
        (e.item.lower(), e.detail): (len(e.hosts), e.events) for e in stack_events(events) if e.kind == "dll_load"
    }
    convert([str(EXAMPLES)], str(tmp_path / "lake"))
    eng = open_engine("duckdb", parquet_files([str(tmp_path / "lake")]))
    try:
        rows = list(eng.rows(lake_queries("duckdb", days=36500)["dll_loads"]))
        for name, query in lake_queries("duckdb", days=36500).items():
            assert list(eng.rows(query)), name
    finally:
        eng.close()
    sha = {r["loaded_dll"].lower(): r for r in rows}
    got = {
        (r["loaded_dll"].lower(), next(h[7:] for h in r["hashes"].split(",") if h.startswith("SHA256="))):
        (r["hosts"], r["events"]) for r in rows
    }  # fmt: skip
    assert got == native and sha
    assert "try_element_at(`data`, 'ImageLoaded')" in lake_queries("databricks")["dll_loads"]


def test_stack_cli_formats_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    assert main(["stack", str(EXAMPLES), "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["summary"]["records_read"] == example_records() and {e["kind"] for e in doc["stack"]} == {
        "dll_load",
        "registration",
        "config_change",
    }
    counts = [(e["host_count"], e["events"]) for e in doc["stack"]]
    assert counts == sorted(counts)
    assert main(["stack", str(EXAMPLES), "--format", "csv", "--flagged", "--kind", "registration"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("kind,host_count,events") and all(ln.startswith("registration,") for ln in lines[1:])
    assert main(["stack"]) == 2
    assert "needs at least one PATH" in capsys.readouterr().err
    assert main(["stack", "--aql", "--days", "7"]) == 0
    assert "LAST 7 DAYS" in capsys.readouterr().out
    assert main(["stack", "--queries", "spark-sql"]) == 0
    assert "INTERVAL 30 DAYS" in capsys.readouterr().out
