"""docs/rules.md's behaviour table is what the rules do: regenerated from the scenarios, it must be unchanged."""

from __future__ import annotations

from pathlib import Path

from iisdetect.simulate.behaviours import (
    VALIDATION_HEADER,
    current_table,
    render_table,
    render_validation_table,
    replace_table,
    short_channel,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
README = Path(__file__).resolve().parents[2] / "README.md"


def test_docs_behaviour_table_is_current() -> None:
    assert current_table(DOC.read_text("utf-8")) == render_table(), "run: python scripts/render_behaviours.py"


def test_table_rows_name_rules_levels_and_logs() -> None:
    rows = {line.split("(`")[1].split("`")[0]: line for line in render_table().splitlines()[2:]}
    drop = rows["system32_dll_certutil_drop"]
    assert "`iis_system_dir_dll_write` (informational)" in drop and "`iis_dir_dll_write`" not in drop
    assert drop.endswith("| IIS-Configuration/Operational 29; Security 4688; Sysmon 1/7/11 |")
    assert rows["seed_test1_list_global_modules"].endswith("| none | - |")


def test_replace_keeps_the_rest_of_the_document() -> None:
    doc = "intro\n\n" + render_table() + "\nafter\n"
    assert replace_table(doc, "| x |\n") == "intro\n\n| x |\n\nafter\n"
    assert short_channel("Microsoft-Windows-Sysmon/Operational") == "Sysmon"
    assert short_channel("Microsoft-IIS-Configuration/Operational") == "IIS-Configuration/Operational"
    assert short_channel("PowerShellCore/Operational") == "PowerShellCore/Operational"


def test_readme_validation_table_is_current() -> None:
    table = render_validation_table()
    assert current_table(README.read_text("utf-8"), VALIDATION_HEADER) == table, (
        "run: python scripts/render_behaviours.py"
    )
    rows = {r.split(" | ")[0].lstrip("| "): r for r in table.splitlines()[2:]}
    assert rows["IIS_Non_Standard_Module_Load"].endswith("| - | - | - | - | - |")  # a seed-only type
    assert "IIS_Known_Module" not in rows and "IIS_System_Dir_DLL_Write" not in rows  # reports are not scored
