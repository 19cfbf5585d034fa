"""Shared test fixtures: the real-data corpus lives beside the repository, never inside it.

``CORPUS`` is ``<repo>/../shared/corpus`` so a clone in any folder X works with the corpus at
``X/../shared/corpus``; tests that need it use the ``corpus`` fixture and are skipped (with the
path in the reason) when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real-data corpus not found at {CORPUS} (expected at <repo>/../shared/corpus)")
    return CORPUS
