"""History diff: added, changed and removed between CFGHISTORY snapshots and the live configuration."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from iisdetect.audit.entries import extract
from iisdetect.audit.history import Snapshot, diff


def _snap(name: str, time: str, xml: str) -> Snapshot:
    return Snapshot(name, time, extract(ET.fromstring(xml), name, ""))


def _gm(*mods: tuple[str, str]) -> str:
    adds = "".join(f'<add name="{n}" image="{i}"/>' for n, i in mods)
    return f"<configuration><system.webServer><globalModules>{adds}</globalModules></system.webServer></configuration>"


def test_history_added_changed_removed() -> None:
    a, b, c = ("A", "a.dll"), ("B", "b.dll"), ("C", "c.dll")
    snaps = [
        _snap("live", "T4", _gm(a, ("B", "evil.dll"))),
        _snap("CFGHISTORY_0000000002", "T2", _gm(a, b, c)),
        _snap("CFGHISTORY_0000000001", "T1", _gm(a)),
        _snap("CFGHISTORY_0000000003", "T3", _gm(a, b)),
    ]
    changes, first = diff(snaps)
    assert [(ch.what, ch.entry.name, ch.snapshot, ch.time) for ch in changes] == [
        ("added", "B", "CFGHISTORY_0000000002", "T2"),
        ("added", "C", "CFGHISTORY_0000000002", "T2"),
        ("removed", "C", "CFGHISTORY_0000000003", "T3"),
        ("changed", "B", "live", "T4"),
    ]
    assert changes[-1].before is not None and changes[-1].before.image == "b.dll"
    assert first[("global_module", "", "a")] == ("CFGHISTORY_0000000001", "T1")
    assert first[("global_module", "", "b")] == ("CFGHISTORY_0000000002", "T2")
