"""Log source type names (LOGSOURCETYPENAME) as QRadar 7.5.0 UP14 reports them, and the lint's ids.

Expected names are read off the source by hand: the ``sensordevicetype`` dump in DaRuudii/qradar-utils,
logsources/devicetypes.md at commit 5b7d8945 (QRadar 7.5.0.14-04), and IBM's pySigma QRadar backend
(IBM/pySigma-backend-QRadar-AQL, sigma/mapping/logsources.py, services.py, products.py).
"""

from __future__ import annotations

import pytest

from iisdetect.aql.lint import lint
from iisdetect.mapping.qradar import _id_ranges, _raw_default, load_mapping
from tests.helpers import SECURITY, ev, image_load


def one(run, expr: str, events=None):
    r = run(events or [image_load(r"C:\x.dll")], f"SELECT {expr} AS v FROM events")
    assert len(r.rows) == 1
    return r.rows[0][0]


@pytest.mark.parametrize(
    ("type_id", "name"),
    [
        (11, "Linux OS"),  # IBM's backend: product linux -> [11]; sshd, sudo, cron, auditd -> [11]
        (12, "Microsoft Windows Security Event Log"),  # IBM's backend: service sysmon -> [12]
        (13, "Microsoft IIS"),
        (14, "Linux iptables Firewall"),
        (58, "Linux DHCP Server"),
        (246, "WinCollect"),
        (433, "Microsoft 365 Defender"),  # was "Microsoft Windows Defender ATP" on older releases
        (444, "osquery"),
        (506, "Suricata"),
        (278, "Barracuda Spam & Virus Firewall"),  # characters YAML would read otherwise
        (311, "Pirean Access: One"),
        (106, "3Com 8800 Series Switch"),
        (546, "HashiCorp Vault"),  # in the 7.5.0 UP14 dump, not in IBM's backend
        (4000, "IBM Custom DSM"),
    ],
)
def test_logsourcetypename_of_an_id(run, type_id: int, name: str) -> None:
    assert one(run, f"LOGSOURCETYPENAME({type_id})") == name


def test_every_windows_row_including_sysmon_is_type_12(run) -> None:
    rows = [image_load(r"C:\x.dll"), ev(4688, {"NewProcessName": r"C:\x.exe"}, log=SECURITY)]
    r = run(rows, "SELECT DISTINCT LOGSOURCETYPENAME(devicetype) AS v FROM events")
    assert r.rows == [("Microsoft Windows Security Event Log",)]


@pytest.mark.parametrize("type_id", [515, 94, 1011])
def test_an_unnamed_id_has_no_name(run, type_id: int) -> None:
    """515 (IBM's Microsoft365Defender) and 94 are IBM's ids without a name in the dump; 1011 is no id."""
    assert one(run, f"LOGSOURCETYPENAME({type_id})") is None


def test_every_named_id_is_listed_as_known_in_the_file() -> None:
    """Read from the YAML itself: the loader adds the named ids to the known ones, which would hide a gap."""
    raw = _raw_default()
    known = _id_ranges(str(raw["known_devicetypes"]))
    assert set(raw["devicetypes"]) <= known


def test_the_known_ids_without_a_name_are_those_the_dump_lacks() -> None:
    """IBM's backend lists 94 Cisco, 192 SRC, 248 CiscoWirelessNCS, 515, 4001, 4002; the dump does not."""
    m = load_mapping()
    assert m.known_devicetypes - set(m.devicetypes) == {94, 192, 248, 515, 4001, 4002}


def test_names_are_distinct_and_stripped() -> None:
    names = list(load_mapping().devicetypes.values())
    assert len(set(names)) == len(names)
    assert all(n == n.strip() and n for n in names)


def test_lint_accepts_an_id_only_the_dump_has() -> None:
    assert lint("SELECT * FROM events WHERE devicetype IN (518, 546) LAST 1 HOURS") == []
