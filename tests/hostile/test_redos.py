"""Finding 4: the ReDoS reproducers finish under a CPU-time limit (no timing: a bound on work)."""

from __future__ import annotations

import resource

from .cli import run


def _cpu_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (20, 20))  # Python re needed 15.6 s + 8.4 s on one core


def test_redos_reproducers_run_through_hunt_with_correlation(hostile):
    paths = [str(hostile / "redos_default_1ev.evtx.jsonl"), str(hostile / "redos_correlate_1ev.evtx.jsonl")]
    proc = run(["hunt", "--format", "ndjson", *paths], preexec_fn=_cpu_limit)
    assert proc.returncode == 0, proc.stderr[-300:]
    assert b"IIS_Logging_Tamper" in proc.stdout and b"IIS_Module_Registration_Command" in proc.stdout
