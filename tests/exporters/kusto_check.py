"""Run Microsoft's Kusto.Language over KQL queries via node (tests/exporters/kusto/check.js)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.exporters.common import need_tool

HERE = Path(__file__).parent / "kusto"


def kusto_errors(tables: dict[str, str], queries: list[str]) -> list[list[dict]]:
    """Error diagnostics per query, against the declared table schemas."""
    node = need_tool("node")
    if not (HERE / "node_modules" / "@kusto" / "language-service-next").is_dir():
        msg = "npm package @kusto/language-service-next missing (cd tests/exporters/kusto && npm install)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    out = subprocess.run(
        [node, str(HERE / "check.js")], input=json.dumps({"tables": tables, "queries": queries}),
        capture_output=True, text=True, cwd=HERE, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)
