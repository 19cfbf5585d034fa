"""Baseline compiled into rules: spellings, generated items, apply(), and that the rules (hence every
export, which compiles from the same IR) carry the knowledge and change when the data changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisdetect.baseline import KnownModule
from iisdetect.baseline import compile as bc
from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import compile_rule, load_ruleset, rules_root
from iisdetect.errors import RuleError
from tests.rulesets.iis_events import fired, iis_29, image_load


def test_config_spellings_cover_env_vars_literal_paths_and_iis_bin() -> None:
    got = bc.config_spellings(r"%windir%\System32\inetsrv\defdoc.dll")
    assert r"%SystemRoot%\System32\inetsrv\defdoc.dll" in got and r"C:\Windows\System32\inetsrv\defdoc.dll" in got
    assert r"%IIS_BIN%\defdoc.dll" in got
    assert bc.config_spellings(r"<AppMon install dir>\agent\lib64\dtagent.dll") == [r"*\agent\lib64\dtagent.dll"]
    exchange = bc.config_spellings(r"%ExchangeInstallPath%Bin\kerbauth.dll")
    assert exchange[1] == r"*\Microsoft\Exchange Server\V1*\Bin\kerbauth.dll"


def test_disk_paths_any_drive_and_32bit_twins() -> None:
    got = bc.disk_paths(r"%windir%\System32\inetsrv\rewrite.dll")
    assert got == [r"?:\Windows\System32\inetsrv\rewrite.dll", r"?:\Windows\SysWOW64\inetsrv\rewrite.dll"]


def test_sigma_strings_keep_wildcards_after_a_backslash() -> None:
    assert bc._sigma(r"C:\a\*\b.dll") == r"C:\a\\*\b.dll"


def test_apply_fills_items_and_leaves_other_rules_alone() -> None:
    detection = {"sel": {"EventID": 29}, "k": None, "condition": "sel and k"}
    doc = {"title": "t", "detection": detection, "baseline": {"k": "config_known"}}
    out = bc.apply(doc)
    assert "baseline" not in out and isinstance(out["detection"]["k"], list) and out["detection"]["k"]
    plain = {"title": "t", "detection": {"sel": {"EventID": 1}, "condition": "sel"}}
    assert bc.apply(plain) is plain
    with pytest.raises(RuleError, match="unknown kind"):
        bc.apply({"detection": {"condition": "x"}, "baseline": {"x": "nope"}})


def test_microsoft_signers_are_the_same_three_names_everywhere() -> None:
    """Every rule that lists Microsoft signer names lists all three (and nothing else Microsoft-ish)."""
    names = {"Microsoft Windows", "Microsoft Corporation", "Microsoft Windows Publisher"}
    for path in sorted((rules_root() / "iis").glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        listed = {n for n in names if f"'{n}'" in text}
        assert not listed or listed == names, (path.name, listed)
    items = bc.generated("load_known")
    ms = [i for i in items if "Signature" in i and "Microsoft Corporation" in i["Signature"]]
    assert ms and all(set(i["Signature"]) == names for i in ms)


def test_the_knowledge_changes_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module added to the data becomes known in the compiled rule, with no rule edit."""
    path = rules_root() / "iis" / "iis_config_module_added.yml"
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    ev = iis_29('/system.webServer/globalModules/add[@name="ContosoWaf"]/@image', r"C:\Program Files\Contoso\waf.dll")
    before = Detector([compile_rule(bc.apply(doc), path, "iis")])
    assert fired(before, ev) == ["iis_config_module_added"]
    image = r"%ProgramFiles%\Contoso\waf.dll"
    extra = KnownModule("ContosoWaf", "native", "third_party", image=image, signer="Contoso")
    base = bc.load_baseline()
    monkeypatch.setattr(bc, "load_baseline", lambda: (*base, extra))
    bc.generated.cache_clear()
    try:
        after = Detector([compile_rule(bc.apply(doc), path, "iis")])
        assert fired(after, ev) == []
    finally:
        bc.generated.cache_clear()


def test_compiled_rules_carry_the_baseline_in_their_ir() -> None:
    """What exports translate is the IR: the known image and the three Microsoft signers are in it."""
    rules = {Path(r.path).stem: r for r in load_ruleset("iis")}
    added = repr(rules["iis_config_module_added"].variants)
    assert "rewrite.dll" in added.lower() and "aspnetcorev2.dll" in added.lower()
    load = repr(rules["iis_known_module_load"].variants)
    assert "Microsoft Windows Publisher" in load and "dtagent.dll" in load


def test_known_load_needs_its_folder_and_signer() -> None:
    det = Detector(load_ruleset("iis"))
    ok = image_load(r"C:\Program Files\iisnode\iisnode.dll", signature="Tomasz Janczuk")
    assert fired(det, ok) == ["iis_known_module_load"]
    elsewhere = image_load(r"C:\Users\Public\iisnode.dll", signature="Tomasz Janczuk")
    assert fired(det, elsewhere) == ["iis_module_masquerade_load", "iis_untrusted_module_load"]


def test_the_deployment_tools_are_one_list_for_the_three_file_write_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment tool added to the data moves its site-bin writes from the DLL-write rule to the
    informational known-deployment rule, both at once: the three rules share one list."""
    import yaml

    from iisdetect import baseline as bl
    from tests.rulesets.iis_events import file_create

    names = ("iis_known_deployment_write", "iis_dir_dll_write", "iis_config_file_write")
    docs = {n: (rules_root() / "iis" / f"{n}.yml") for n in names}
    tool = r"C:\Tools\OctoDeploy\Tentacle.exe"
    dll = file_create(r"D:\Sites\shop\bin\Shop.Payments.dll", tool)
    config = file_create(r"D:\Sites\shop\web.config", tool)
    wide = file_create(r"C:\Windows\System32\inetsrv\shopmod.dll", tool)

    def detector() -> Detector:
        rules = [compile_rule(bc.apply(yaml.safe_load(p.read_text("utf-8"))), p, "iis") for p in docs.values()]
        return Detector(rules)

    before = detector()
    assert fired(before, dll) == ["iis_dir_dll_write"] and fired(before, config) == ["iis_config_file_write"]
    data = bl.load_deployment()
    monkeypatch.setattr(bc, "load_deployment", lambda: {**data, "tools": (*data["tools"], tool)})
    bc.generated.cache_clear()
    try:
        after = detector()
        assert fired(after, dll) == ["iis_known_deployment_write"]
        assert fired(after, config) == ["iis_known_deployment_write"]
        assert fired(after, wide) == ["iis_dir_dll_write"]  # server-wide places still alert
    finally:
        bc.generated.cache_clear()


def test_the_installers_are_one_list_for_the_write_and_registry_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """An installer added to the data is exempt in the four rules at once (they share the
    ``installers`` section); a copy of it elsewhere is not."""
    import yaml

    from iisdetect import baseline as bl
    from tests.rulesets.iis_events import file_create, registry_set

    names = (
        "iis_dir_dll_write",
        "iis_system_dir_dll_write",
        "iis_config_file_write",
        "iis_component_registration_registry",
    )
    paths = [rules_root() / "iis" / f"{n}.yml" for n in names]
    tool = r"C:\Program Files\Contoso\Setup\ContosoInstaller.exe"
    events = [
        file_create(r"C:\Windows\System32\inetsrv\contoso.dll", tool),
        file_create(r"C:\Windows\System32\contoso.dll", tool),
        file_create(r"C:\Windows\System32\inetsrv\config\applicationHost.config", tool),
        registry_set(r"HKLM\SYSTEM\CurrentControlSet\Services\W3SVC\Parameters\Filter DLLs", r"C:\x\contoso.dll", tool),
    ]

    def fired_all() -> list[list[str]]:
        det = Detector([compile_rule(bc.apply(yaml.safe_load(p.read_text("utf-8"))), p, "iis") for p in paths])
        return [fired(det, ev) for ev in events]

    assert fired_all() == [[n] for n in names]
    data = bl.load_installers()
    monkeypatch.setattr(bc, "load_installers", lambda: {**data, "images": (*data["images"], tool)})
    bc.generated.cache_clear()
    try:
        assert fired_all() == [[], [], [], []]
        elsewhere = file_create(r"C:\Windows\System32\contoso.dll", r"C:\Users\Public\ContosoInstaller.exe")
        det = Detector([compile_rule(bc.apply(yaml.safe_load(p.read_text("utf-8"))), p, "iis") for p in paths])
        assert fired(det, elsewhere) == ["iis_system_dir_dll_write"]
    finally:
        bc.generated.cache_clear()
