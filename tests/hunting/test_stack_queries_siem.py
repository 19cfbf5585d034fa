"""The stacking hunts for Splunk, ES|QL, Sentinel and XDR: SPL run over the examples counts what the native
stack and the QRadar AQL hunts count; ES|QL parses; KQL parses and binds against the declared schemas;
names come from the export mappings; a hunt with no source in a target is named, not dropped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.hunting.stack import stack_events
from iisdetect.hunting.stack_queries import qradar_queries
from iisdetect.hunting.stack_queries_siem import SIEM_TARGETS, siem_queries
from iisdetect.mapping.targets import TargetMapping, load_target_mapping
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from tests.exporters.spl_eval import SplStack
from tests.exporters.test_splunk import splunk_event

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HUNTS = ("dll_loads", "registrations", "registration_commands", "config_writes")


@pytest.fixture(scope="module")
def events():  # noqa: ANN201
    return list(iter_events([str(EXAMPLES)], RunStats()))


def _spl_rows(events, name: str) -> list[dict]:  # noqa: ANN001
    queries, _ = siem_queries("splunk", days=36500)
    return SplStack(queries[name]).rows([splunk_event(e) for e in events], now=time.time())


def _sha(hashes: str | None) -> str:
    return next((h[7:] for h in (hashes or "").split(",") if h.startswith("SHA256=")), "")


def _shown(r: dict) -> str:
    """The native stack's signer column: ``signer (status)``."""
    return f"{r['signer']} ({r['signature_status']})" if r["signature_status"] else r["signer"]


def test_splunk_dll_loads_count_what_the_native_stack_counts(events) -> None:  # noqa: ANN001
    native = {(e.item.lower(), e.detail, e.signer.lower()): (len(e.hosts), e.events)
              for e in stack_events(events) if e.kind == "dll_load"}  # fmt: skip
    rows = _spl_rows(events, "dll_loads")
    got = {(r["loaded_dll"].lower(), _sha(r["hashes"]), _shown(r).lower()): (r["hosts"], r["events"]) for r in rows}
    assert len(got) == len(rows) and native and got == native
    assert [(r["hosts"], r["events"]) for r in rows] == sorted((r["hosts"], r["events"]) for r in rows)


def test_splunk_config_writes_count_what_the_native_stack_counts(events) -> None:  # noqa: ANN001
    native = {(e.item.lower(), e.detail.lower()): (len(e.hosts), e.events)
              for e in stack_events(events) if e.kind == "config_change" and e.via == {"file write"}}  # fmt: skip
    rows = _spl_rows(events, "config_writes")
    got = {(r["file_path"].lower(), r["writer"].lower()): (r["hosts"], r["events"]) for r in rows}
    assert len(got) == len(rows) and native and got == native


@pytest.mark.parametrize("name", HUNTS)
def test_splunk_hunts_find_the_groups_and_events_the_qradar_hunts_find(events, name: str) -> None:  # noqa: ANN001
    """Same groups and event counts as AQL over the emulator. Not ``hosts``: AQL's UNIQUECOUNT(logsourceid)
    counts log sources, one per (channel, computer), so a host seen in Sysmon and Security counts twice."""
    from iisdetect.aql import Emulator

    emu = Emulator()
    emu.load(events)
    aql = emu.query(qradar_queries(days=36500)[name])
    width = len(aql.rows[0]) - 4  # group columns, then hosts, events, first_seen, last_seen
    want = sorted(tuple("" if v is None else v for v in r[:width]) + (r[width + 1],) for r in aql.rows)
    rows = _spl_rows(events, name)
    cols = [k for k in rows[0] if k not in ("hosts", "events", "first_seen", "last_seen")]
    got = sorted(tuple(r[c] for c in cols) + (r["events"],) for r in rows)
    assert len(cols) == width and want and got == want


def test_splunk_time_window_and_where_really_filter(events) -> None:  # noqa: ANN001
    queries, _ = siem_queries("splunk", days=1)
    spl = [splunk_event(e) for e in events]
    assert SplStack(queries["dll_loads"]).rows(spl, now=time.time()) == []  # the examples are older than a day
    newest = max(e["_time"] for e in spl)
    assert SplStack(queries["dll_loads"]).rows(spl, now=newest + 3600)  # inside the window: found
    not_w3wp = [dict(e, Image=r"C:\Windows\System32\svchost.exe") for e in spl]
    assert SplStack(siem_queries("splunk", 36500)[0]["dll_loads"]).rows(not_w3wp, now=time.time()) == []


def test_esql_stacking_queries_parse() -> None:
    from tests.exporters.esql_check import esql_syntax_errors

    queries, omitted = siem_queries("elastic-esql")
    assert set(queries) == set(HUNTS) and not omitted
    for name, q in queries.items():
        assert esql_syntax_errors(q) == [], name
        assert "STATS hosts = COUNT_DISTINCT(winlog.computer_name)" in q and q.rstrip().endswith("SORT hosts, events")
    assert esql_syntax_errors("FROM x | STATS hosts = COUNT_DISTINCT(a) BY") != []  # the check can fail


@pytest.mark.parametrize(("target", "expected"), [("sentinel", set(HUNTS)), ("xdr", set(HUNTS) - {"registrations"})])
def test_kql_stacking_queries_parse_and_bind(target: str, expected: set[str]) -> None:
    from tests.exporters.kusto_check import kusto_errors

    m = load_target_mapping(target)
    schemas = {k: " ".join(v.split()) for k, v in m.raw["schemas"].items()}
    queries, omitted = siem_queries(target)
    assert set(queries) == expected
    assert [n.split(":")[0] for n in omitted] == sorted(set(HUNTS) - expected)
    errs = kusto_errors(schemas, [*queries.values(), "WindowsEvent | summarize n = dcount(NoSuchColumn)"])
    assert errs[:-1] == [[] for _ in queries], dict(zip(queries, errs, strict=False))
    assert errs[-1], "the binder must reject an unknown column"


def test_names_come_from_the_export_mappings() -> None:
    raw = dict(
        load_target_mapping("splunk").raw, index="wineventlog", fields={"EventID": "EventCode", "Computer": "host"}
    )
    q = siem_queries("splunk", mapping=TargetMapping("splunk", raw))[0]["dll_loads"]
    assert q.startswith("search index=wineventlog ") and "dc(host) AS hosts" in q
    es = dict(load_target_mapping("elastic").raw)
    es["variants"] = {
        **es["variants"],
        "sysmon_7": {"fields": {**es["variants"]["sysmon_7"]["fields"], "ImageLoaded": "dll.path"}},
    }
    assert "loaded_dll = dll.path" in siem_queries("elastic-esql", mapping=TargetMapping("elastic", es))[0]["dll_loads"]
    xdr = siem_queries("xdr")[0]["dll_loads"]
    assert xdr.startswith("DeviceImageLoadEvents\n| join kind=leftouter (DeviceFileCertificateInfo")  # signer join
    assert "dcount(Host)" in xdr and "Host = DeviceName" in xdr and "Time = Timestamp" in xdr


def test_stack_queries_cli_targets_notes_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for target in SIEM_TARGETS:
        assert main(["stack", "--queries", target, "--days", "7"]) == 0
        out = capsys.readouterr()
        assert all(n in out.out for n in ("dll_loads", "config_writes")), target
        if target == "xdr":
            assert "// registrations: not generated for xdr: no IIS configuration table" in out.out
            assert "registrations: not generated for xdr" in out.err
        else:
            assert "registrations" in out.out and not out.err
    assert "earliest=-7d" in (main(["stack", "--queries", "splunk", "--days", "7"]), capsys.readouterr().out)[1]
    for target, says in (
        ("elastic-eql", "use --queries elastic-esql"),
        ("sigma", "no aggregation"),
        ("nope", "unknown"),
    ):
        assert main(["stack", "--queries", target]) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert main(["stack", "--queries", "splunk", "--days", "0"]) == 2
