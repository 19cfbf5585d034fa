"""Event builders shared by tests: realistic field values copied from real Sysmon/Security logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from iisdetect.model.event import Event

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
W3WP = r"C:\Windows\System32\inetsrv\w3wp.exe"

_record = iter(range(1000, 10**9))


def ev(
    event_id: int,
    data: dict[str, str],
    *,
    log: tuple[str, str] = SYSMON,
    computer: str = "WEB01.corp.local",
    time: str = "2024-05-02T10:15:30.123456Z",
    **kw: str,
) -> Event:
    channel, provider = log
    return Event(
        kw.get("channel", channel),
        kw.get("provider", provider),
        event_id,
        computer,
        time,
        next(_record),
        kw.get("sid", "S-1-5-18"),
        dict(data),
        "test",
        "record 1",
    )


def image_load(image_loaded: str, image: str = W3WP, **extra: str) -> Event:
    data = {
        "RuleName": "-",
        "UtcTime": "2024-05-02 10:15:30.123",
        "ProcessGuid": "{6004d249-0957-604d-6019-000000000900}",
        "ProcessId": "4120",
        "Image": image,
        "ImageLoaded": image_loaded,
        "Signed": "true",
        "Signature": "Microsoft Windows",
        "SignatureStatus": "Valid",
        "User": "IIS APPPOOL\\DefaultAppPool",
    }
    data.update(extra)
    return ev(7, data)


def file_create(target: str, image: str, **extra: str) -> Event:
    data = {
        "RuleName": "-",
        "UtcTime": "2024-05-02 10:15:30.123",
        "ProcessGuid": "{6004d249-0957-604d-6019-000000000901}",
        "ProcessId": "5120",
        "Image": image,
        "TargetFilename": target,
        "CreationUtcTime": "2024-05-02 10:15:30.123",
        "User": "CORP\\admin",
    }
    data.update(extra)
    return ev(11, data)


def registry_set(target: str, details: str, image: str = r"C:\Windows\System32\svchost.exe") -> Event:
    return ev(
        13,
        {
            "RuleName": "-",
            "EventType": "SetValue",
            "UtcTime": "2024-05-02 10:15:30.123",
            "ProcessGuid": "{6004d249-0957-604d-6019-000000000902}",
            "ProcessId": "912",
            "Image": image,
            "TargetObject": target,
            "Details": details,
            "User": "NT AUTHORITY\\SYSTEM",
        },
    )


def example_records() -> int:
    """How many event records the bundled examples hold, counted without iisdetect's readers.

    One per line in the ``.jsonl`` files and one per ``<Event`` element in the XML files, so tests
    that convert or stack ``examples/`` compare against the data, not against a pinned number that
    goes stale whenever ``examples/regenerate.sh`` changes the scenarios.
    """
    lines = sum(sum(1 for ln in f.open("rb") if ln.strip()) for f in EXAMPLES.glob("*.jsonl"))
    xml = sum(f.read_text(encoding="utf-8").count("<Event ") for f in EXAMPLES.glob("*.xml"))
    return lines + xml


def corpus_evtx_texts(corpus: Path, per_file: int = 300) -> Iterator[tuple[Path, str]]:
    """``(file, record text)`` for the first ``per_file`` records pyevtx renders of every corpus EVTX file
    it can open (the gate tests compare answers on real records)."""
    import evtx

    for path in sorted(corpus.rglob("*.evtx")):
        try:
            records = list(evtx.PyEvtxParser(str(path)).records_json())
        except (RuntimeError, OSError):
            continue
        for rec in records[:per_file]:
            yield path, rec["data"]


def corpus_json_blobs(corpus: Path) -> Iterator[tuple[str, bytes]]:
    """``(where, first bytes)`` of the corpus's JSON lines: every plain .json file (4 MB of each) and
    every 4th OTRF zip's NDJSON members (2 MB of each): the gate tests compare answers on real lines."""
    import zipfile

    for path in sorted(corpus.rglob("*.json")):
        with path.open("rb") as fh:
            yield str(path), fh.read(4_000_000)
    for path in sorted(corpus.rglob("OTRF-Security-Datasets/**/*.zip"))[::4]:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith(".json"):
                    with zf.open(name) as fh:
                        yield f"{path}:{name}", fh.read(2_000_000)
