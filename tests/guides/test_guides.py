"""Guides as data: every detection type of every built-in ruleset has one; every step is cited and usable."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from iisdetect.engine.ruleset import load_rules
from iisdetect.errors import UsageError
from iisdetect.guides import SECTIONS, _cite, _sources, _step, guide_for, guide_id, load_guides
from iisdetect.rulesets import BASE_RULESETS
from iisdetect.tuning.entries import load_tuning


def _types(ruleset: str) -> set[str]:
    return {r.detection_type for r in load_rules(ruleset, []).rules}


@pytest.mark.parametrize("ruleset", BASE_RULESETS)
def test_every_detection_type_of_every_builtin_ruleset_has_a_guide(ruleset: str) -> None:
    types = _types(ruleset)
    assert types, ruleset
    missing = sorted(t for t in types if guide_for(t) is None)
    assert not missing, f"{ruleset}: no guide for {missing}"


def test_no_guide_without_a_rule() -> None:
    raised = set().union(*(_types(r) for r in BASE_RULESETS))
    assert set(load_guides()) == raised


def test_every_step_is_cited_with_https_sources_and_has_commands() -> None:
    for g in load_guides().values():
        assert g.id == guide_id(g.detection_type)
        for sec in SECTIONS:
            assert g.sections[sec], (g.id, sec)
            for step in g.sections[sec]:
                assert step.sources and all(s.url.startswith("https://") for s in step.sources), step.title
                assert step.commands and all(c.run.strip() for c in step.commands), step.title
        assert g.tuning and all(t.sources for t in g.tuning)
    assert len({g.id for g in load_guides().values()}) == len(load_guides())


def _commands(g) -> str:  # noqa: ANN001
    return "\n".join(c.run for sec in SECTIONS for s in g.sections[sec] for c in s.commands)


@pytest.mark.parametrize(
    "dtype",
    ["IIS_Module_Registration_Command", "IIS_Config_Module_Added", "IIS_Untrusted_Module_Load",
     "IIS_Module_Registration_By_Webshell", "IIS_Module_Registration_Script"],
)  # fmt: skip
def test_module_guides_carry_the_investigation_and_playbook_commands(dtype: str) -> None:
    g = load_guides()[dtype]
    inv = "\n".join(c.run for s in g.sections["investigate"] for c in s.commands)
    for needle in ("Get-WebGlobalModule", "Get-AuthenticodeSignature", "Get-FileHash", "Sysmon"):
        assert needle in inv, (dtype, needle)
    assert "appcmd.exe list module" in inv or "appcmd.exe list config" in inv
    erad = "\n".join(c.run for s in g.sections["eradicate"] for c in s.commands)
    assert "Remove-WebGlobalModule" in erad or "Remove-WebManagedModule" in erad
    assert "recycle apppools" in erad and "Restart-WebAppPool" in erad
    assert any("credential" in s.title.lower() for s in g.sections["eradicate"])
    scope = "\n".join(c.run for s in g.sections["scope"] for c in s.commands)
    assert "Get-FileHash" in scope and "Invoke-Command" in scope


def test_restore_and_pivot_steps_exist() -> None:
    allc = "\n".join(_commands(g) for g in load_guides().values())
    assert "appcmd.exe uninstall module" in allc
    assert "inetpub\\history\\<SnapshotDir>\\applicationHost.config" in allc  # restore from a CFGHISTORY snapshot
    assert "Id = 4688" in allc and "Microsoft-Windows-Sysmon/Operational" in allc


def test_commands_use_only_the_documented_placeholders() -> None:
    """Values to fill are named placeholders (attacker text from a log is never pasted into a shell)."""
    header = resources.files("iisdetect.guides").joinpath("common.yaml").read_text("utf-8")
    documented = set(re.findall(r"<[A-Z][A-Za-z0-9]+>", header.split("steps:")[0]))
    used = set().union(*(set(re.findall(r"<[A-Z][A-Za-z0-9]+>", _commands(g))) for g in load_guides().values()))
    assert used and used <= documented, used - documented


def test_tuning_examples_are_valid_tuning_entries_for_their_type(tmp_path: Path) -> None:
    for g in load_guides().values():
        for n, tip in enumerate(g.tuning):
            entries = yaml.safe_load(tip.example)
            f = tmp_path / f"{g.id}-{n}.yaml"
            f.write_text(yaml.safe_dump({"entries": entries}))
            tuning = load_tuning(f)  # raises on an invalid entry
            for e in tuning.entries:
                assert not e.detection_types or g.detection_type in e.detection_types, (g.id, e.name)


def test_loader_refuses_uncited_or_unknown_sources() -> None:
    sources = _sources({"sources": {"a": {"publisher": "p", "title": "t", "url": "https://x.example/"}}})
    good = {"title": "t", "why": "w", "commands": [{"shell": "cmd", "run": "dir"}], "sources": ["a"]}
    assert _step(good, sources, "here").sources[0].id == "a"
    with pytest.raises(UsageError, match="cites no source"):
        _step({**good, "sources": []}, sources, "here")
    with pytest.raises(UsageError, match="unknown source"):
        _cite(["nope"], sources, "here")
    with pytest.raises(UsageError, match="shell"):
        _step({**good, "commands": [{"shell": "bash", "run": "ls"}]}, sources, "here")
    with pytest.raises(UsageError, match="https"):
        _sources({"sources": {"b": {"publisher": "p", "title": "t", "url": "javascript:alert(1)"}}})
