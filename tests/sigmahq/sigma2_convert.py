"""Run by the side environment (pySigma 2.0.1 + pysigma-backend-sqlite 2.1.1), not by iisdetect.

Reads a JSON list of Sigma rule paths on stdin and prints ``{path: {"sql": ...} | {"error": ...}}``:
each rule's detection converted by pySigma's reference SQLite backend with no processing pipeline
(the log source is applied by the test, identically on both sides; only the condition is compared).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection


def main() -> None:
    backend = sqliteBackend()
    out: dict[str, dict[str, str]] = {}
    for path in json.load(sys.stdin):
        try:
            rules = SigmaCollection.from_yaml(Path(path).read_text(encoding="utf-8"))
            queries = backend.convert(rules)
            out[path] = {"sql": queries[0]} if len(queries) == 1 else {"error": f"{len(queries)} queries"}
        except Exception as exc:  # every failure is data for the test, named by rule
            out[path] = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
