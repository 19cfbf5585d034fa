"""The built-in rulesets: Sigma YAML folders shipped as package data, and their names.

``seed`` is the QRadar seed reproduced faithfully, ``iis`` the default ruleset; ``all`` names both
(hunt runs their union, validate scores each). This module is the one home for those names and for
where the files are, and it imports nothing heavy, so the CLI can list choices without pySigma.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def find_rule_files(paths: Iterable[Path]) -> tuple[list[Path], Path | None]:
    """(every ``.yml``/``.yaml`` file under ``paths``, in order; the first path that does not exist).

    Here, with no heavy import, so the compiled-rule cache (engine/rule_cache.py) finds the same
    files as the loader (engine/ruleset.py) without importing pySigma.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml") and q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            return out, p
    return out, None
