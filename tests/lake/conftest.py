"""Lake fixtures: every scenario plus background, as simulator files and as the converted Parquet table."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from iisdetect.cli import main
from iisdetect.lake.convert import convert

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TUNING = EXAMPLES / "tuning.example.yaml"


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every scenario (attacks and benign) with 300 background events per file, in three shapes."""
    out = tmp_path_factory.mktemp("sim")
    for fmt in ("evtx-json", "xml", "ecs"):
        assert main(["simulate", "--all", "--format", fmt, "-o", str(out / fmt), "--background-events", "300",
                     "--no-truth"]) == 0  # fmt: skip
    return out


@pytest.fixture(scope="session")
def lake_dir(sim_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lake")
    result = convert([str(sim_dir)], str(out))
    assert result.rows == result.stats.records_read > 0 and result.stats.records_skipped == 0
    return out


def _java_ok() -> bool:
    java = shutil.which("java")
    if not java:
        return False
    return subprocess.run([java, "-version"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def spark_available() -> None:
    """PySpark and Java, or a skip; under CI=true their absence is a failure (CI installs both)."""
    reasons = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reasons.append("pyspark is not installed (pip install 'iisdetect[spark]')")
    if not _java_ok():
        reasons.append("no Java runtime (apt-get install openjdk-17-jre-headless)")
    if reasons:
        if os.environ.get("CI") == "true":
            pytest.fail("; ".join(reasons))
        pytest.skip("; ".join(reasons))
