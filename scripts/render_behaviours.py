"""Rewrite the generated tables: the behaviour table in docs/rules.md (the default ruleset over every
scenario) and the validation table in README.md (``iisdetect validate``); tests/simulate/test_behaviours.py
checks both are current."""

from pathlib import Path

from iisdetect.simulate.behaviours import VALIDATION_HEADER, render_table, render_validation_table, replace_table

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    rules = root / "docs" / "rules.md"
    rules.write_text(replace_table(rules.read_text("utf-8"), render_table()), encoding="utf-8")
    readme = root / "README.md"
    readme.write_text(
        replace_table(readme.read_text("utf-8"), render_validation_table(), VALIDATION_HEADER), encoding="utf-8"
    )
    print(f"wrote {rules} and {readme}")
