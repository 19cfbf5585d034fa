"""make_bombs.py's full-size reproducers (finding 7): they write ~2.5 GB to a temp folder, so they run
when IISDETECT_BOMBS=1 (.ci/run sets it; about a minute here):

    IISDETECT_BOMBS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/hostile/test_bombs.py

Each bomb goes through `hunt` in a child with a CPU-time limit; the child's peak RSS must stay far
below what the findings measured (3.2 GB, 4.7 GB, 220 s). The suite runs the same shapes scaled down
(tests/readers/test_containers.py, tests/readers/test_limits.py).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from .cli import ENV

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOMBS = {  # file -> (what the run must report, its exit code)
    "xml_unterminated_400m.xml": (b"element too large", 0),
    "gz_line_bomb_1g.jsonl.gz": (b"max_ratio", 0),  # the ratio stops it before the line limit
    "gz_newline_bomb.jsonl.gz": (b"records: 1 seen", 0),
    # the outer zip expands past max_ratio: the file is reported unreadable and nothing was read (exit 3)
    "zip_nested_stored_6.zip": (b"max_ratio; a bomb?", 3),
}

pytestmark = pytest.mark.skipif(
    os.environ.get("IISDETECT_BOMBS") != "1", reason="set IISDETECT_BOMBS=1 (writes ~2.5 GB)"
)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, request):
    hostile = Path(__file__).resolve().parents[3] / "shared" / "hostile-inputs"
    out = tmp_path_factory.mktemp("bombs")
    subprocess.run([sys.executable, str(hostile / "make_bombs.py"), str(EXAMPLES)], cwd=out, check=True, timeout=1800)
    return out


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_bounded(bombs, name):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "iisdetect", "hunt", "--no-correlate", str(bombs / name)],
                          capture_output=True, env=ENV, preexec_fn=_limits, timeout=900)  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    message, code = BOMBS[name]
    assert proc.returncode == code, proc.stderr[-400:]
    assert message in proc.stderr, proc.stderr[-400:]
    assert peak_mb < 1024 or peak_mb <= before / 1024, f"{name}: peak RSS {peak_mb:.0f} MB"
