"""Peak RSS of ``iisdetect hunt`` on an alert-heavy EVTX, one process and with ``--jobs``.

Why: ``bench_memory.py`` measures alerts from NDJSON; an EVTX is split into chunk ranges for
``--jobs`` (hunting/parallel.py), and each range's alerts travel back to the parent, so the size of a
range bounds what waits there. This builds an EVTX in which every record fires (Sysmon 1, appcmd
registering a module from C:\\Windows\\Temp: ``iis_module_registration_command``), 40 records a chunk,
from the test suite's byte-level builder (tests/readers/evtx_builder.py: the project's own records,
nothing from the corpus), one chunk repeated under a rewritten header (``--keep-duplicates``: the
copies share their record ids), and runs each configuration in its own process under
``/usr/bin/time -f %M``.

    python bench/bench_jobs_memory.py --alerts 250000 --jobs 1,2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.readers.evtx_builder import CHUNK, chunk, file_header  # noqa: E402

PER_CHUNK = 40
COMMAND = r"C:\Windows\System32\inetsrv\appcmd.exe install module /name:Evil /image:C:\Windows\Temp\evil.dll"


def make(target: Path, alerts: int) -> int:
    """Write the EVTX (kept if already there); returns its record count."""
    chunks = min(65535, -(-alerts // PER_CHUNK))
    if not target.exists() or target.stat().st_size != 4096 + chunks * CHUNK:
        body = chunk(1, PER_CHUNK, COMMAND)
        with target.open("wb") as fh:
            fh.write(file_header(chunks, PER_CHUNK + 1))
            for _ in range(chunks):
                fh.write(body)
    return chunks * PER_CHUNK


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=250_000)
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values (0: the automatic choice)")
    ap.add_argument("--format", default="ndjson")
    args = ap.parse_args()
    data = ROOT / "bench" / "data"
    data.mkdir(parents=True, exist_ok=True)
    target = data / f"alert_heavy_{args.alerts}.evtx"
    records = make(target, args.alerts)
    print(f"input: {target.name}, {records:,} records ({target.stat().st_size / 2**20:.0f} MiB)")
    for jobs in args.jobs.split(","):
        cmd = ["/usr/bin/time", "-f", "%M %e", sys.executable, "-m", "iisdetect", "hunt", str(target),
               "--keep-duplicates", "--format", args.format, "-o", "/dev/null"]  # fmt: skip
        if jobs != "0":
            cmd += ["--jobs", jobs]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        rss_kb, _ = proc.stderr.strip().splitlines()[-1].split()
        alerts = next((ln for ln in proc.stderr.splitlines() if ln.startswith("alerts:")), "alerts: ?")
        print(f"--jobs {jobs if jobs != '0' else 'auto'}: peak RSS {int(rss_kb) / 1024:.0f} MB, "
              f"{time.perf_counter() - t:.1f} s, rc {proc.returncode}; {alerts[:60]}")  # fmt: skip


if __name__ == "__main__":
    main()
