"""The hostile-input reproducers live in ../shared/hostile-inputs (read there, never copied here)."""

from __future__ import annotations

from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parents[3] / "shared" / "hostile-inputs"


@pytest.fixture
def hostile() -> Path:
    if not HOSTILE.is_dir():
        pytest.skip(f"hostile-input reproducers not found at {HOSTILE} (expected at <repo>/../shared/hostile-inputs)")
    return HOSTILE
