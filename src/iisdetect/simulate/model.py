"""What the simulator produces: a canonical ``Event`` plus what only the writers and the truth need.

Why a wrapper instead of extra ``Event`` fields: the canonical event is what readers yield and must
stay producer-agnostic. The System-section details real tools write (provider GUID, Version, Task,
Keywords, the logging process) and the hand-written ground truth travel beside it, so the writers can
reproduce the exact shapes and ``validate`` can score alerts without ever re-deriving the truth.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from iisdetect.model.event import Event
from iisdetect.model.times import format_iso
from iisdetect.rulesets import BASE_RULESETS

RULESETS: tuple[str, ...] = BASE_RULESETS  # ground truth is per built-in ruleset


@dataclass(frozen=True, slots=True)
class Provider:
    """System-section constants of one producer (as the real manifest declares them)."""

    name: str
    guid: str | None
    channel: str
    exec_pid: int
    classic: bool = False  # classic event sources carry EventID Qualifiers and no GUID


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """Per-event System fields that the canonical ``Event`` does not keep."""

    provider: Provider
    version: int
    level: int
    task: int
    opcode: int
    keywords: str
    thread_id: int
    qualifiers: int | None = None


@dataclass(slots=True)
class Truth:
    """Hand-declared ground truth for one emitted event.

    ``expect`` maps a ruleset name to the detection types that must fire on this event; ``known_fp``
    maps a ruleset to detection types that are documented, accepted false positives (benign event).
    ``template`` names the background template for background events (``None`` for scenario steps).
    """

    event_key: str
    scenario: str
    step: str
    malicious: bool
    expect: dict[str, tuple[str, ...]] = field(default_factory=dict)
    known_fp: dict[str, tuple[str, ...]] = field(default_factory=dict)
    known_miss: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    #: detection types that may fire without being required (later records of an EID 29 burst)
    allow: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class SimEvent:
    """One simulated record: the canonical event, its System extras and its ground truth."""

    event: Event
    system: SystemInfo
    truth: Truth
    #: typed EventData values for JSON shapes that keep binary-XML types (pyevtx writes ints)
    int_fields: frozenset[str] = frozenset()


def digest(*parts: str) -> bytes:
    """Deterministic bytes for ids and hashes; never depends on Python's randomised ``hash``."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


@lru_cache(maxsize=8192)
def file_hashes(path: str, variant: str = "") -> str:
    """Sysmon ``Hashes`` for a file: same path (and variant, e.g. a servicing version) -> same value.

    Real hashes of Microsoft files are not reproducible here, so they are derived from the lowercase
    path; what matters for detection and triage is that one DLL keeps one hash across events.
    """
    key = path.lower() + "|" + variant
    sha1 = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest().upper()
    md5 = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest().upper()
    sha256 = hashlib.sha256(key.encode()).hexdigest().upper()
    imp = hashlib.md5(("imp|" + key).encode(), usedforsecurity=False).hexdigest().upper()
    return f"SHA1={sha1},MD5={md5},SHA256={sha256},IMPHASH={imp}"


def process_guid(host: str, seed: int, pid: int, start_epoch: int) -> str:
    """A Sysmon-style ProcessGuid: machine part stable per host, time part from the start time."""
    machine = digest("machine", host).hex()[:8].upper()
    low = f"{start_epoch & 0xFFFF:04X}"
    mid = f"{(start_epoch >> 16) & 0xFFFF:04X}"
    counter = digest("guid", host, str(seed), str(pid), str(start_epoch)).hex()[:4].upper()
    return f"{{{machine}-{low}-{mid}-{counter}-000000000900}}"


def logon_guid(host: str, logon_id: str) -> str:
    """Sysmon LogonGuid: stable per host and logon session."""
    machine = digest("machine", host).hex()[:8].upper()
    tail = digest("logon", host, logon_id).hex()
    return f"{{{machine}-{tail[:4].upper()}-{tail[4:8].upper()}-{tail[8:12].upper()}-{tail[12:24].upper()}}}"


def iso_time(when: datetime) -> str:
    """Canonical ``TimeCreated`` (millisecond resolution, so ECS/NXLog shapes lose nothing)."""
    return format_iso(when, 3)[:-1] + "000Z"


def sysmon_time(when: datetime) -> str:
    """Sysmon ``UtcTime``/``CreationUtcTime``: ``2024-05-02 10:15:30.123``."""
    return format_iso(when, 3)[:-1].replace("T", " ")


@dataclass(frozen=True, slots=True)
class Built:
    """A producer's output before the sequencer gives it a record id: data + System extras."""

    event_id: int
    data: dict[str, str]
    system: SystemInfo
    user_sid: str | None
    int_fields: frozenset[str] = frozenset()
    #: delay between the producer's own timestamp (UtcTime) and TimeCreated, in milliseconds
    write_delay_ms: int = 0


def to_sim(built: Built, host: str, when: datetime, truth: Truth) -> SimEvent:
    """Wrap a producer's output into a ``SimEvent`` (record id assigned later, in time order)."""
    created = when + timedelta(milliseconds=built.write_delay_ms)
    sp = built.system.provider
    event = Event(sp.channel, sp.name, built.event_id, host, iso_time(created), None, built.user_sid, built.data)
    return SimEvent(event, built.system, truth, built.int_fields)
