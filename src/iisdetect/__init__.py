"""iisdetect: find malicious IIS components (ATT&CK T1505.004) in Windows telemetry.

Data flows one way: readers (read + normalise) -> engine (detect) -> hunt (tune, correlate) ->
report / export. The library surface is here; each name is loaded on first use, so importing the
package (or ``iisdetect --version``) does not pull in pySigma, DuckDB or sqlglot::

    import iisdetect
    result = iisdetect.hunt(["examples/"], tuning="examples/tuning.example.yaml")
    aql = iisdetect.export("qradar", ruleset="seed")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

#: public name -> the module that defines it
_EXPORTS = {
    "hunt": "iisdetect.api",
    "export": "iisdetect.api",
    "run_aql": "iisdetect.api",
    "lint_aql": "iisdetect.api",
    "validate": "iisdetect.api",
    "load_tuned_rules": "iisdetect.api",
    "Event": "iisdetect.model.event",
    "RunStats": "iisdetect.model.stats",
    "IisdetectError": "iisdetect.errors",
    "UsageError": "iisdetect.errors",
    "InputError": "iisdetect.errors",
    "RuleError": "iisdetect.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'iisdetect' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
