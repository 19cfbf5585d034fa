"""Flat JSON (NXLog / OTRF): real corpus counts and the metadata-key rules."""

from __future__ import annotations

import pytest

from iisdetect.readers.flat_json import normalise_flat

from .util import read_all

OTRF = "OTRF-Security-Datasets"
PROXYLOGON_ZIP = f"{OTRF}/datasets/atomic/windows/persistence/host/proxylogon_ssrf_rce_poc.zip"
PROXYLOGON_JSON = f"{OTRF}/extracted/proxylogon_ssrf_rce_poc_2021-03-14T01401970.json"
EMPIRE_ZIP = f"{OTRF}/datasets/atomic/windows/persistence/host/empire_persistence_registry_modification_run_keys_standard_user.zip"  # noqa: E501


@pytest.mark.corpus
def test_otrf_zip_and_extracted_json_agree(corpus):
    zipped, zstats = read_all(corpus / PROXYLOGON_ZIP)
    flat, fstats = read_all(corpus / PROXYLOGON_JSON)
    assert len(zipped) == len(flat) == zstats.records_read == fstats.records_read == 10487
    assert zstats.records_skipped == fstats.records_skipped == 0
    assert zstats.formats == fstats.formats == {"flat-json": 1}
    assert zipped == flat
    assert zipped[0].source == f"{corpus / PROXYLOGON_ZIP}!proxylogon_ssrf_rce_poc_2021-03-14T01401970.json"
    assert zipped[0].locator == "line 1"


@pytest.mark.corpus
def test_otrf_proxylogon_fields(corpus):
    events, _ = read_all(corpus / PROXYLOGON_JSON)
    first = events[0]
    assert (first.channel, first.provider, first.event_id, first.computer) == (
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-Sysmon",
        3,
        "MXS01.azsentinel.local",
    )
    assert first.time_created == "2021-03-14T01:39:32.609000Z"
    assert first.data["DestinationPort"] == "443" and "Message" not in first.data and "Level" not in first.data
    loads = [e for e in events if e.event_id == 7 and e.data["Image"].lower().endswith("w3wp.exe")]
    assert loads and all("ImageLoaded" in e.data for e in loads)
    # Sysmon registry EventType is EventData and must survive
    assert {e.data.get("EventType") for e in events if e.event_id == 13} == {"SetValue"}


@pytest.mark.corpus
def test_otrf_nxlog_schema(corpus):
    events, stats = read_all(corpus / EMPIRE_ZIP)
    assert stats.records_read == 40569 and stats.records_skipped == 0
    nxlog_meta = {"EventTime", "EventReceivedTime", "SourceModuleName", "Severity", "SeverityValue", "Category"}
    nxlog_meta |= {"tags", "host", "port", "@version", "ThreadID", "Opcode", "EventTypeOrignal", "AccountType"}
    assert not any(nxlog_meta & e.data.keys() for e in events)
    sysmon13 = [e for e in events if e.event_id == 13 and e.provider == "Microsoft-Windows-Sysmon"]
    # 5367 of the 5376 Sysmon 13 rows carry Sysmon's EventType (9 rows in the source lack it)
    assert [e.data.get("EventType") for e in sysmon13].count("SetValue") == 5367 and len(sysmon13) == 5376
    sysmon1 = [e for e in events if e.event_id == 1 and e.provider == "Microsoft-Windows-Sysmon"]
    assert sysmon1 and all("EventType" not in e.data for e in sysmon1)  # NXLog's INFO dropped
    assert all(e.record_id is not None and e.time_created for e in events)
    assert {e.user_sid for e in sysmon1} == {"S-1-5-18"}


def test_metadata_rules():
    base = {"EventID": "4624", "Channel": "Security", "Hostname": "h", "SourceName": "S"}
    e = normalise_flat({**base, "EventType": "AUDIT_SUCCESS", "ProviderName": "fw", "Computer": "c"}, "s", "line 1")
    assert e.event_id == 4624 and e.provider == "S" and e.computer == "h"
    assert e.data == {"ProviderName": "fw", "Computer": "c"}
    e = normalise_flat(
        {"EventID": 1, "Channel": "X", "ProviderName": "P", "Computer": "C", "AccountName": "a"}, "s", "l"
    )
    assert (e.provider, e.computer, e.data) == ("P", "C", {"AccountName": "a"})
    e = normalise_flat(
        {**base, "AccountName": "SYSTEM", "AccountType": "User", "Domain": "NT", "UserID": "S-1-5-18"}, "s", "l"
    )
    assert e.data == {} and e.user_sid == "S-1-5-18"
    e = normalise_flat({**base, "UserData": None, "Payload": None, "Flag": True, "N": 5}, "s", "l")
    assert e.data == {"Payload": "", "Flag": "true", "N": "5"}
    e = normalise_flat({**base, "EventTime": "2024-01-01 05:00:00", "@timestamp": "2024-01-01T10:00:00.5Z"}, "s", "l")
    assert e.time_created == "2024-01-01T10:00:00.500000Z"
    assert normalise_flat({"Channel": "x"}, "s", "l") is None
