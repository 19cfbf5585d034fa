"""Rewrite the behaviour table in docs/rules.md by running the default ruleset over every scenario
(tests/simulate/test_behaviours.py checks it is current)."""

from pathlib import Path

from iisdetect.simulate.behaviours import render_table, replace_table

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    target.write_text(replace_table(target.read_text("utf-8"), render_table()), encoding="utf-8")
    print(f"wrote {target}")
