"""The built-in rulesets: Sigma YAML folders shipped as package data, and their names.

``seed`` is the QRadar seed reproduced faithfully, ``iis`` the default ruleset; ``all`` names both
(hunt runs their union, validate scores each). This module is the one home for those names and for
where the files are, and it imports nothing heavy, so the CLI can list choices without pySigma.
"""

from __future__ import annotations

import os
from pathlib import Path

from iisdetect.errors import UsageError

#: ruleset name -> the folders under ``rules_root()`` it is made of
RULESETS: dict[str, tuple[str, ...]] = {"seed": ("seed",), "iis": ("iis",), "all": ("seed", "iis")}
DEFAULT_RULESET = "iis"
#: the folders that are rulesets of their own (``all`` is a union of them)
BASE_RULESETS: tuple[str, ...] = ("iis", "seed")


def rules_root() -> Path:
    """The rulesets folder inside the installed package (or ``$IISDETECT_RULES``).

    They ship inside the wheel, so an installed ``iisdetect`` finds them wherever it runs.
    """
    env = os.environ.get("IISDETECT_RULES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent


def ruleset_paths(name: str) -> list[Path]:
    if name not in RULESETS:
        raise UsageError(f"unknown ruleset {name!r} (choose from {', '.join(RULESETS)})")
    root = rules_root()
    paths = [root / sub for sub in RULESETS[name]]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        raise UsageError(f"ruleset {name!r} not found at {', '.join(missing)}")
    return paths
