"""When did each registration appear? A diff across IIS configuration-history snapshots and the live config.

IIS's configuration history service copies ``applicationHost.config`` (with administration.config and
redirection.config) into ``%SystemDrive%\\inetpub\\history\\CFGHISTORY_<n>`` whenever it changes, checking every
two minutes and keeping ten snapshots by default (``<system.applicationHost/configHistory>``,
learn.microsoft.com/iis/configuration/system.applicationhost/confighistory). So even without event logs the
snapshot in which a module first shows up dates its install to a two-minute window, as long as the snapshot is
still kept. The snapshot time is the modification time of its copied file as the package recorded it.
"""

from __future__ import annotations

from dataclasses import dataclass

from iisdetect.audit.entries import Entry

LIVE = "live"


@dataclass
class Snapshot:
    name: str  # CFGHISTORY_0000000012, or "live"
    time: str
    entries: list[Entry]


@dataclass
class Change:
    """``what``: added (absent in the previous set), changed (other attributes) or removed (gone since)."""

    what: str
    entry: Entry
    snapshot: str
    time: str
    before: Entry | None = None


def _fingerprint(e: Entry) -> tuple[str, ...]:
    return (e.image.lower(), e.type.lower(), e.precondition.lower(), e.attrs.get("allowed", "").lower())


def order(snapshots: list[Snapshot]) -> list[Snapshot]:
    """Oldest first: history folders by their sequence number, the live configuration last."""
    return sorted(snapshots, key=lambda s: (s.name == LIVE, s.name))


def diff(snapshots: list[Snapshot]) -> tuple[list[Change], dict[tuple[str, str, str], tuple[str, str]]]:
    """Changes between consecutive sets, and for every key the (snapshot, time) it was first seen in.

    The oldest set is the reference: its entries are "first seen" there but not "added" (they may be older).
    """
    seq = order(snapshots)
    changes: list[Change] = []
    first: dict[tuple[str, str, str], tuple[str, str]] = {}
    prev: dict[tuple[str, str, str], Entry] | None = None
    for snap in seq:
        cur = {e.key: e for e in snap.entries}
        for key, e in cur.items():
            first.setdefault(key, (snap.name, snap.time))
            if prev is None:
                continue
            old = prev.get(key)
            if old is None:
                changes.append(Change("added", e, snap.name, snap.time))
            elif _fingerprint(old) != _fingerprint(e):
                changes.append(Change("changed", e, snap.name, snap.time, before=old))
        if prev is not None:
            for key, old in prev.items():
                if key not in cur:
                    changes.append(Change("removed", old, snap.name, snap.time))
        prev = cur
    return changes, first
