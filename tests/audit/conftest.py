"""Helpers: write configuration text into a KAPE-shaped folder (``<target>/C/Windows/...``)."""

from __future__ import annotations

from pathlib import Path

import pytest

APPHOST = "C/Windows/System32/inetsrv/config/applicationHost.config"


def config(global_modules: str = "", modules: str = "", filters: str = "", restrictions: str = "", handlers: str = "",
           sites: str = "") -> str:  # fmt: skip
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost><sites>{sites}</sites></system.applicationHost>
  <system.webServer>
    <globalModules>{global_modules}</globalModules>
    <isapiFilters>{filters}</isapiFilters>
    <security><isapiCgiRestriction>{restrictions}</isapiCgiRestriction></security>
    <handlers>{handlers}</handlers>
    <modules>{modules}</modules>
  </system.webServer>
</configuration>
"""


@pytest.fixture
def kape(tmp_path: Path):
    """``kape(rel, text_or_bytes)`` writes one file under tmp/WEB01/; returns the package root."""
    root = tmp_path / "WEB01"

    def write(rel: str, data: str | bytes) -> Path:
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data.encode() if isinstance(data, str) else data)
        return root

    return write
