"""Build large benchmark inputs by repeating real corpus data (never committed: written to bench/data/).

EVTX: a file is a 4 KiB header plus independent 64 KiB chunks (templates and strings are per chunk),
so whole chunks from real files can be concatenated under a rewritten header. Only chunks whose
magic is right and that parse cleanly are used. NDJSON: lines of the OTRF flat JSON, repeated.

    python bench/make_data.py --evtx-records 1000000 --ndjson-records 1000000
"""

from __future__ import annotations

import argparse
import io
import struct
import zlib
from pathlib import Path

import evtx

HEADER, CHUNK = 4096, 65536
ROOT = Path(__file__).resolve().parent
CORPUS = ROOT.parents[1] / "shared" / "corpus"
DENSE = [
    "omerbenamram-evtx/samples/security.evtx",
    "omerbenamram-evtx/samples/sysmon.evtx",
    "omerbenamram-evtx/samples/system.evtx",
    "omerbenamram-evtx/samples/Security_with_size_t.evtx",
    "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx",
    "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/panache_sysmon_vs_EDRTestingScript.evtx",
]


def header(template: bytes, chunks: int) -> bytes:
    h = bytearray(template[:HEADER])
    struct.pack_into("<QQ", h, 8, 0, chunks - 1)
    struct.pack_into("<H", h, 42, chunks)
    h[120] &= 0xFE  # clear the dirty flag
    struct.pack_into("<I", h, 124, zlib.crc32(bytes(h[:120])))
    return bytes(h)


def good_chunks(path: Path) -> list[tuple[bytes, int]]:
    """Chunks of ``path`` that parse with no error, with their record counts."""
    raw = path.read_bytes()
    out = []
    for off in range(HEADER, len(raw) - CHUNK + 1, CHUNK):
        chunk = raw[off : off + CHUNK]
        if chunk[:8] != b"ElfChnk\x00":
            continue
        try:
            n = sum(1 for _ in evtx.PyEvtxParser(io.BytesIO(header(raw, 1) + chunk)).records_json())
        except RuntimeError:
            continue
        if n:
            out.append((chunk, n))
    return out


def make_evtx(target: Path, records: int) -> int:
    pool = []
    template = (CORPUS / DENSE[0]).read_bytes()
    for rel in DENSE:
        pool.extend(good_chunks(CORPUS / rel))
    chunks, total, i = [], 0, 0
    while total < records and len(chunks) < 65535:
        chunk, n = pool[i % len(pool)]
        chunks.append(chunk)
        total += n
        i += 1
    with target.open("wb") as fh:
        fh.write(header(template, len(chunks)))
        for c in chunks:
            fh.write(c)
    return total


def make_ndjson(target: Path, records: int) -> int:
    src = (CORPUS / "OTRF-Security-Datasets/extracted/proxylogon_ssrf_rce_poc_2021-03-14T01401970.json").read_bytes()
    lines = [ln for ln in src.splitlines() if ln.strip()]
    total = 0
    with target.open("wb") as fh:
        while total < records:
            for ln in lines[: records - total]:
                fh.write(ln + b"\n")
            total += min(len(lines), records - total + 0)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evtx-records", type=int, default=1_000_000)
    ap.add_argument("--ndjson-records", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    n = make_evtx(args.out / f"big_{args.evtx_records}.evtx", args.evtx_records)
    print(f"evtx: {n} records -> {args.out}/big_{args.evtx_records}.evtx")
    n = make_ndjson(args.out / f"big_{args.ndjson_records}.ndjson", args.ndjson_records)
    print(f"ndjson: {n} records -> {args.out}/big_{args.ndjson_records}.ndjson")


if __name__ == "__main__":
    main()
