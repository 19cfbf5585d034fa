"""Events read twice (VSS copies, overlapping exports): what identity means, and when to look.

Kept apart from the hunt loop (hunting/run.py) because the identity is shared by one-process and
``--jobs`` runs (hunting/parallel.py) and must agree between them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from iisdetect.model.event import Event
from iisdetect.model.stats import Duplicate, RunStats

if TYPE_CHECKING:
    from iisdetect.hunting.run import HuntOptions

_CONTAINER_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def dedupe_wanted(opts: HuntOptions) -> bool:
    """``opts.dedupe``, or auto: on unless the input is one plain file (which cannot repeat another file).

    Why auto: remembering every event read costs ~70 bytes per event; a single EVTX/JSON/XML file has
    no second copy to meet, so it keeps the flat memory of streaming.
    """
    if opts.dedupe is not None:
        return opts.dedupe
    if len(opts.paths) != 1 or opts.paths[0] == "-" or not os.path.isfile(opts.paths[0]):
        return True
    try:
        with open(opts.paths[0], "rb") as fh:
            head = fh.read(262)
    except OSError:
        return True
    return head.startswith(_CONTAINER_MAGIC) or head[257:262] == b"ustar"


def event_identity(event: Event) -> int:
    """What makes two read events the same event: host, channel, record id, time, id and content.

    The content is part of it because a record id is only a counter: a cleared or forged log can
    hold a second, different event with the same Computer, Channel, EventRecordID and time, and
    counting that one as a repeat would let a harmless decoy hide the malicious record behind it.
    """
    return hash((event.computer, event.channel, event.record_id, event.time_created, event.event_id,
                 tuple(event.data.items())))  # fmt: skip


def cross_unit_duplicates(keys: list, seen: set[int], stats: RunStats) -> set[int]:
    """Events of one unit already read in an earlier unit: counted as duplicates; their hashes returned."""
    repeated: set[int] = set()
    for key, computer, channel, rid, t, source, locator in keys:
        if key in seen:
            stats.duplicate(Duplicate(source, locator, computer, channel, rid, t))
            repeated.add(key)
        else:
            seen.add(key)
    return repeated
