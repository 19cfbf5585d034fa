"""Rewrite the generated tables: the behaviour table in docs/rules.md (the default ruleset over every
scenario) and the validation table in README.md (``iisdetect validate``); tests/simulate/test_behaviours.py
checks both are current."""

from pathlib import Path

from iisdetect.simulate.behaviours import (
    current_validation_table,
    render_table,
    render_validation_table,
    replace_table,
)

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    rules = root / "docs" / "rules.md"
    rules.write_text(replace_table(rules.read_text("utf-8"), render_table()), encoding="utf-8")
    readme = root / "README.md"
    text = readme.read_text("utf-8")
    readme.write_text(text.replace(current_validation_table(text), render_validation_table(), 1), encoding="utf-8")
    print(f"wrote {rules} and {readme}")
