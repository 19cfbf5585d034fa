"""EVTX reader on real files: exact counts (measured once, pinned), damaged files read to the end."""

from __future__ import annotations

import io
import zipfile

import pytest

from iisdetect.model.stats import RunStats

from .util import read_all

SAMPLES = "omerbenamram-evtx/samples"

# file -> (records_read, {skip reason: records}); read counts equal the corpus manifest's ``records``;
# skipped counts are what the chunk headers claim beyond that (see readers/evtx.py), e.g. chunk 0 of
# sample-with-zero-data-size-event.evtx claims records 1-117 but pyevtx stops after the zero-size record 3.
PINNED = {
    "security.evtx": (2261, {}),
    "sysmon.evtx": (358, {"evtx chunk error": 8}),
    "sample_with_a_bad_chunk_magic.evtx": (270, {"evtx chunk error": 771, "evtx records missing": 197}),
    "sample-with-zero-data-size-event.evtx": (335, {"evtx record error": 115}),
    "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx": (1910, {"evtx record error": 68}),
    "2-vss_7-System.evtx": (1160, {"evtx chunk error": 262}),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_counts(corpus, name):
    events, stats = read_all(corpus / SAMPLES / name)
    read, reasons = PINNED[name]
    assert len(events) == stats.records_read == read
    assert dict(stats.skipped_by_reason) == reasons
    assert stats.records_skipped == sum(reasons.values())
    assert stats.files == 1 and stats.formats == {"evtx": 1} and stats.files_failed == 0


@pytest.mark.corpus
def test_damaged_file_is_read_past_the_bad_chunk(corpus):
    from iisdetect.readers import iter_events

    stats = RunStats()
    after_error = 0
    for _ in iter_events([str(corpus / SAMPLES / "sample_with_a_bad_chunk_magic.evtx")], stats):
        after_error += stats.records_skipped > 0
    assert after_error > 0  # reading went on after chunk 0 came up short (reported when it ended)
    by_place = {s.locator: (s.reason, s.count) for s in stats.skips}
    assert by_place["chunks 1-6 (offset 69632)"] == ("evtx chunk error", 770)  # records 46858-47627
    assert by_place["chunk 0 (offset 4096)"] == ("evtx records missing", 116)


@pytest.mark.corpus
def test_sysmon_bad_chunks_located(corpus):
    events, stats = read_all(corpus / SAMPLES / "sysmon.evtx")
    [skip] = [s for s in stats.skips if s.reason == "evtx chunk error"]
    assert skip.locator == "chunks 9-16 (offset 593920)" and skip.count == 8  # range unknown: one per chunk
    assert "record range unknown" in skip.detail
    assert all(e.locator == f"record {e.record_id}" for e in events)


@pytest.mark.corpus
def test_first_security_record_normalised(corpus):
    events, _ = read_all(corpus / SAMPLES / "security.evtx")
    first = events[0]
    assert (first.channel, first.provider, first.event_id, first.record_id) == (
        "Security",
        "Microsoft-Windows-Security-Auditing",
        4608,
        1,
    )
    assert first.time_created == "2016-07-08T18:12:51.681640Z"
    assert first.computer == "37L4247F27-25" and first.user_sid is None and first.data == {}
    logon = events[1]
    assert logon.event_id == 4624 and logon.data["LogonType"] == "0" and logon.data["ProcessName"] == ""
    assert all(isinstance(v, str) for e in events for v in e.data.values())


@pytest.mark.corpus
def test_unnamed_data_become_params_and_userdata_flattened(corpus):
    events, _ = read_all(corpus / SAMPLES / "system.evtx")
    eventlog = next(e for e in events if e.provider == "EventLog" and e.event_id == 6009)
    assert eventlog.data == {
        "param1": "10.00.",
        "param2": "15063",
        "param3": "",
        "param4": "Multiprocessor Free",
        "param5": "0",
    }
    umdf = next(e for e in events if e.event_id == 10114)
    assert umdf.data == {"Dependency": "WUDFPf"}


@pytest.mark.corpus
def test_evtx_by_content_not_name(corpus, tmp_path):
    renamed = tmp_path / "notes.txt"
    renamed.write_bytes((corpus / SAMPLES / "security.evtx").read_bytes())
    events, stats = read_all(renamed)
    assert len(events) == 2261 and stats.formats == {"evtx": 1}


@pytest.mark.corpus
def test_evtx_in_zip_and_gz(corpus, tmp_path):
    import gzip

    data = (corpus / SAMPLES / "sysmon.evtx").read_bytes()
    zpath = tmp_path / "logs.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("host1/sysmon.evtx", data)
        zf.writestr("README.md", "not data")
    gpath = tmp_path / "sysmon.evtx.gz"
    gpath.write_bytes(gzip.compress(data))
    events, stats = read_all(zpath, gpath)
    assert stats.records_read == 2 * 358 and stats.skipped_by_reason == {"evtx chunk error": 16}
    assert {s.source for s in stats.skips} == {f"{zpath}!host1/sysmon.evtx", str(tmp_path / "sysmon.evtx")}
    assert {e.source for e in events} == {f"{zpath}!host1/sysmon.evtx", str(tmp_path / "sysmon.evtx")}
    assert stats.formats == {"evtx": 2} and stats.files_ignored == 1  # the zip's README.md
    assert stats.containers == 2 and stats.files_in_containers == 3


@pytest.mark.corpus
def test_evtx_member_is_streamed_chunk_by_chunk_not_buffered(corpus, tmp_path, monkeypatch):
    from iisdetect.readers import sources

    monkeypatch.setattr(sources.LIMITS, "max_buffer", 100_000)  # far below the 2 MB member: never buffered whole
    zpath = tmp_path / "big.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("security.evtx", (corpus / SAMPLES / "security.evtx").read_bytes())
    events, stats = read_all(zpath)
    assert len(events) == 2261 and stats.files_failed == 0 and stats.records_skipped == 0


@pytest.mark.corpus
def test_evtx_on_stdin(corpus, monkeypatch):
    import sys

    data = (corpus / SAMPLES / "sample-with-zero-data-size-event.evtx").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    events, stats = read_all("-")
    assert len(events) == 335 and dict(stats.skipped_by_reason) == {"evtx record error": 115}
    assert {e.source for e in events} == {"-"}


@pytest.mark.corpus
def test_guid_typed_values_get_windows_braces_and_string_ids_do_not(corpus):
    """The Rust parser renders Sysmon's GUID-typed values bare; the canonical event has Windows' ``{...}``."""
    events, _ = read_all(corpus / "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx")
    first = next(e for e in events if e.record_id == 3572)
    assert first.data["ProcessGuid"] == "{747F3D96-D6EB-5D31-0000-0010E0252500}"
    assert first.data["LogonGuid"] == "{747F3D96-D4A4-5D31-0000-0020E7030000}"
    assert first.data["ParentProcessGuid"] == "{747F3D96-D4B9-5D31-0000-0010F70B0700}"
    assert first.data["LogonId"] == "0x3e7"  # neighbours untouched


def test_a_script_block_id_stays_bare():
    from iisdetect.readers.evtx_json import event_data

    guid = "c5b5f1a0-62c5-4a55-9a9e-4b1d1e8e2f10"
    assert event_data({"ScriptBlockId": guid, "ProcessGuid": guid.upper()}) == {
        "ScriptBlockId": guid,
        "ProcessGuid": "{" + guid.upper() + "}",
    }
