"""docs/playbook.md is the rendering of the guide YAML (regenerate: python scripts/render_playbook.py)."""

from __future__ import annotations

from pathlib import Path

from iisdetect.guides import load_guides
from iisdetect.guides.markdown import render_playbook

DOC = Path(__file__).resolve().parents[2] / "docs" / "playbook.md"


def test_playbook_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_playbook(), "run: python scripts/render_playbook.py"


def test_playbook_lists_every_guide_and_cites_every_source() -> None:
    text = render_playbook()
    for g in load_guides().values():
        assert f"## {g.detection_type}:" in text and f"`{g.id}`" in text
        for s in g.all_sources():
            assert f"]({s.url})" in text
    assert "<globalModules>" not in text.split("```")[0]  # prose escapes angle brackets
