"""Reader tests may use the hostile-input reproducers (../shared/hostile-inputs), read in place."""

from __future__ import annotations

from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parents[3] / "shared" / "hostile-inputs"


@pytest.fixture
def hostile_dir() -> Path:
    if not HOSTILE.is_dir():
        pytest.skip(f"hostile-input reproducers not found at {HOSTILE}")
    return HOSTILE
