"""Fuzzing profiles: a short run in the normal suite, a long one on demand (docs/fuzzing.md).

    FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -p no:cacheprovider tests/fuzz -q

Every target counts the inputs it ran; the totals are printed at the end of the session.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

RUNS: Counter[str] = Counter()

settings.register_profile(
    "iisdetect",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,  # CPU is shared: time is bounded by the readers' limits, not per example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("FUZZ_SEED") is None and "FUZZ_EXAMPLES" not in os.environ,
    database=None,
)
settings.load_profile("iisdetect")


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if RUNS:
        total = sum(RUNS.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(RUNS.items()))
        terminalreporter.write_line(f"fuzz inputs run: {total} ({parts})")
