"""Fixtures for the rule tests: the default ruleset compiled once per module."""

from __future__ import annotations

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_ruleset("iis"))
