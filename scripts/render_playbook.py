"""Write docs/playbook.md from the guide YAML files (tests/guides/test_markdown.py checks it is current)."""

from pathlib import Path

from iisdetect.guides.markdown import render_playbook

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "playbook.md"
    target.write_text(render_playbook(), encoding="utf-8")
    print(f"wrote {target}")
