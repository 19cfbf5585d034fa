"""The committed example package is exactly what examples/triage/build.py writes (nothing hand-edited)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_package_is_reproducible(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_example", ROOT / "examples" / "triage" / "build.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.write(tmp_path / "web01.tar.gz")
    assert out.read_bytes() == (ROOT / "examples" / "triage" / "web01-velociraptor.tar.gz").read_bytes()
