# ruff: noqa: E501
"""The spooled correlation (hunting/stream_incidents.py) against ``incidents.correlate``, the specification.

Compared: incident ids, order, host, level, first/last, module, summary, duplicates, joined, types,
and every alert's record (level after raising, notes, incident id) in output order.
"""

from __future__ import annotations

import copy
import random
from datetime import timedelta
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.hunting.alerts import Alert, alert_record
from iisdetect.hunting.incidents import correlate
from iisdetect.hunting.run import HuntOptions, hunt
from iisdetect.hunting.spool import UNTIMED, AlertSpool, micros, time_text
from iisdetect.hunting.stream_incidents import SpooledAlerts, plan
from iisdetect.model.stats import RunStats
from iisdetect.readers import iter_events
from iisdetect.report.hunt_output import incident_dict
from tests.hunting.test_incidents import EVIL, install, load
from tests.rulesets.iis_events import APPCMD, APPHOST, file_create, module_add_burst

WINDOW = timedelta(hours=1)


def flat_memory(alerts: list[Alert], incidents: list) -> list:
    return [(incident_dict(i), [alert_record(a) for a in i.alerts]) for i in incidents]


def flat_spooled(spooled: SpooledAlerts) -> list:
    return [(incident_dict(inc), [alert_record(a) for a in alerts]) for inc, _, alerts in spooled.groups()]


def both(alerts: list[Alert], window: timedelta = WINDOW) -> tuple[list, list]:
    """(correlate on a copy, the spool's plan) for the same alerts in the same arrival order."""
    mem = copy.deepcopy(alerts)
    expected = flat_memory(mem, correlate(mem, window))
    spool = AlertSpool()
    for a in alerts:
        spool.add(a)
    sp = SpooledAlerts(spool, AlertSpool(with_columns=False))
    sp.correlate(window)
    got = flat_spooled(sp)
    sp.close()
    return expected, got


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_ruleset("iis"))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--all", "-o", str(out), "--no-truth"]) == 0
    return out


def test_simulator_scenarios_give_the_same_incidents(simulated: Path) -> None:
    mem = hunt(HuntOptions(paths=[str(simulated)]))
    sp = hunt(HuntOptions(paths=[str(simulated)], spool=True))
    assert sp.alerts == [] and sp.spooled is not None
    expected = flat_memory(mem.alerts, mem.incidents)
    got = flat_spooled(sp.spooled)
    sp.spooled.close()
    # the scenarios exercise what matters: many incidents, joined installs, EID 29 duplicates
    assert len(expected) > 20
    assert any(inc["duplicates"] for inc, _ in expected)
    assert any("registration joined" in inc["summary"] for inc, _ in expected)
    assert got == expected
    assert sp.stats.alerts_by_type == mem.stats.alerts_by_type


def _scenario_alerts(simulated: Path, detector: Detector) -> list[Alert]:
    return [Alert(r, ev) for ev in iter_events([str(simulated)], RunStats()) for r in detector.match(ev)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_shuffled_interleaved_hosts_and_times(simulated: Path, detector: Detector, seed: int) -> None:
    """Out of order across files and hosts: arrival shuffled, times moved, hosts merged with case changes."""
    rng = random.Random(seed)
    alerts = _scenario_alerts(simulated, detector)
    hosts = ["WEB01.corp.local", "web01.CORP.local", "MAIL01.corp.local", "EXCH02"]
    for a in alerts:
        a.event.computer = rng.choice(hosts)
        if rng.random() < 0.3:  # same second for several alerts: ties broken by arrival
            a.event.time_created = "2024-05-02T10:00:00.000000Z"
        elif rng.random() < 0.05:
            a.event.time_created = ""  # untimed
        else:
            us = micros("2024-05-02T08:00:00.000000Z") + rng.randrange(4 * 3600 * 10**6)
            a.event.time_created = time_text(us)
    rng.shuffle(alerts)
    expected, got = both(alerts, timedelta(minutes=rng.choice([1, 20, 60])))
    assert len(expected) >= 2
    assert got == expected


def test_unkeyed_alert_joins_nearest_keyed_with_equal_gap_tie(detector: Detector) -> None:
    """A config write (no module key) 10 min after one install and 10 min before another."""
    a = install("2026-11-20T10:00:00.000000Z", name="One", dll=r"C:\x\one.dll")
    b = install("2026-11-20T10:20:00.000000Z", name="Two", dll=r"C:\x\two.dll")
    w = file_create(APPHOST, APPCMD, time="2026-11-20T10:10:00.000000Z")
    alerts = [Alert(r, ev) for ev in (b, w, a) for r in detector.match(ev)]
    expected, got = both(alerts)
    assert got == expected
    assert len(expected) == 2  # the write went with the earlier install (the tie goes backwards)


def test_eid29_burst_representative_replaced_after_burst(detector: Detector) -> None:
    """Two bursts of the same change 2 minutes apart: only the current representative gets '+N'."""
    first = module_add_burst("Backdoor", EVIL, time="2026-11-20T10:00:00.000000Z")
    second = module_add_burst("Backdoor", EVIL, time="2026-11-20T10:02:00.000000Z")
    events = [*second, *first, load("2026-11-20T10:05:00.000000Z")]
    alerts = [Alert(r, ev) for ev in events for r in detector.match(ev)]
    expected, got = both(alerts)
    assert got == expected
    (inc,) = [i for i, _ in expected]
    assert inc["duplicates"] >= 2 and "confirmed install" in inc["summary"]


def test_giant_incident_streams_members(detector: Detector) -> None:
    """5,000 loads of one module a second apart: one incident (past the cached-keys limit), same result."""
    base = micros("2026-11-20T10:00:00.000000Z")
    events = [install(time_text(base))] + [load(time_text(base + n * 10**6)) for n in range(1, 5000)]
    alerts = [Alert(r, ev) for ev in events for r in detector.match(ev)]
    expected, got = both(alerts)
    assert len(expected) == 1 and expected[0][0]["alert_count"] == len(alerts)
    assert got == expected


def test_no_alerts_and_time_columns() -> None:
    sp = SpooledAlerts(AlertSpool(), AlertSpool(with_columns=False))
    sp.correlate(WINDOW)
    assert list(sp.groups()) == [] and len(sp.plan) == 0
    assert time_text(UNTIMED) == "" and micros("") == UNTIMED
    t = "2024-05-02T10:15:30.123456Z"
    assert time_text(micros(t)) == t
    assert plan(AlertSpool(), [], WINDOW).starts.tolist() == [0]


def test_spool_round_trips_alerts_and_keeps_odd_values(detector: Detector) -> None:
    ev = load("2026-11-20T10:00:00.000000Z")
    ev.record_id = 2**70  # forged: beyond 64 bits
    ev.data["Weird"] = "\x00\u202e"
    (rule,) = detector.match(ev)
    spool = AlertSpool()
    spool.add(Alert(rule, ev))
    back = spool.load(0)
    assert back.rule is rule and back.event.record_id == 2**70 and back.event.data == ev.data
    assert alert_record(back) == alert_record(Alert(rule, ev))
    spool.close()


def test_spool_refuses_alerts_already_correlated(detector: Detector) -> None:
    ev = load("2026-11-20T10:00:00.000000Z")
    (rule,) = detector.match(ev)
    spool = AlertSpool()
    with pytest.raises(ValueError):
        spool.add(Alert(rule, ev, notes=["x"]))
    spool.close()


def test_full_temp_folder_is_a_one_line_error(detector: Detector, monkeypatch: pytest.MonkeyPatch) -> None:
    from iisdetect.errors import UsageError

    ev = load("2026-11-20T10:00:00.000000Z")
    (rule,) = detector.match(ev)
    spool = AlertSpool()

    class Full:
        def write(self, _: bytes) -> int:
            raise OSError(28, "No space left on device")

    real = spool._file
    monkeypatch.setattr(spool, "_file", Full())
    with pytest.raises(UsageError, match="No space left on device.*TMPDIR"):
        spool.add(Alert(rule, ev))
    real.close()
