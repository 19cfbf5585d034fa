"""The scenarios reproduced from public sources: every attack is detected by the untuned default ruleset,
every benign vendor/admin activity raises nothing above informational, and known modules are reported."""

from __future__ import annotations

import functools

import pytest

from iisdetect.engine.detector import Detector
from iisdetect.engine.ruleset import load_ruleset
from iisdetect.simulate import load_scenarios, scenario_stream

#: benign vendor installs and admin activity from public sources (docs/scenarios.md)
VENDOR = [
    "benign_ancm_hosting_bundle", "benign_iis_cors_module", "benign_httpplatformhandler", "benign_iisnode_install",
    "benign_dynatrace_appmon_appcmd", "benign_exchange_cu_modules", "benign_module_inventory",
    "benign_enable_config_auditing", "benign_defender_platform_update", "benign_arr_proxy_config",
    "benign_msiexec_url_rewrite_arr", "benign_apm_agents", "benign_web_deployment_bin",
]  # fmt: skip
#: of those, the ones that register or load a module the baseline knows
REPORTS_KNOWN = [
    "benign_ancm_hosting_bundle", "benign_iis_cors_module", "benign_httpplatformhandler", "benign_iisnode_install",
    "benign_dynatrace_appmon_appcmd", "benign_exchange_cu_modules", "benign_msiexec_url_rewrite_arr",
    "benign_apm_agents",
]  # fmt: skip


@functools.cache
def _detector() -> Detector:
    return Detector(load_ruleset("iis"))


def _fired(scenario: str) -> list[tuple[str, str, str]]:
    (scn,) = load_scenarios([scenario])
    out = []
    for sim in scenario_stream(scn, 1):
        for rule in _detector().match(sim.event):
            out.append((sim.truth.event_key, rule.detection_type, rule.level))
    return out


@pytest.mark.parametrize("scenario", VENDOR)
def test_benign_vendor_scenarios_raise_nothing_above_informational(scenario: str) -> None:
    loud = [f for f in _fired(scenario) if f[2] != "informational"]
    assert loud == [], loud


@pytest.mark.parametrize("scenario", REPORTS_KNOWN)
def test_known_modules_are_reported_at_informational(scenario: str) -> None:
    assert any(t == "IIS_Known_Module" and lvl == "informational" for _, t, lvl in _fired(scenario)), scenario


def test_web_deploy_publishing_is_a_known_deployment_and_a_stray_writer_is_not() -> None:
    """MsDepSvc.exe writing bin DLLs and web.config: informational IIS_Known_Deployment on each of the three
    writes, and the DLL/config-write rules stay quiet; the same writes by another process alert."""
    fired = _fired("benign_web_deployment_bin")
    assert sorted(k for k, t, lvl in fired if t == "IIS_Known_Deployment" and lvl == "informational") == [
        f"benign_web_deployment_bin/{s}" for s in ("write_app_dll", "write_lib_dll", "write_webconfig")]  # fmt: skip
    assert not [f for f in fired if f[1] in ("IIS_Dir_DLL_Write", "IIS_Config_File_Write")]
    from tests.helpers import file_create

    det = _detector()
    dll = r"C:\inetpub\wwwroot\shop\bin\Contoso.Shop.Web.dll"
    webdeploy = r"C:\Program Files\IIS\Microsoft Web Deploy V3\MsDepSvc.exe"
    stray = {r.detection_type for r in det.match(file_create(dll, r"C:\Users\Public\MsDepSvc.exe"))}
    assert "IIS_Dir_DLL_Write" in stray and "IIS_Known_Deployment" not in stray
    inetsrv = {r.detection_type for r in det.match(file_create(r"C:\Windows\System32\inetsrv\x.dll", webdeploy))}
    assert "IIS_Dir_DLL_Write" in inetsrv and "IIS_Known_Deployment" not in inetsrv


def test_every_attack_scenario_is_detected_and_cites_a_source() -> None:
    attacks = [s for s in load_scenarios() if s.kind == "attack"]
    assert len(attacks) >= 30
    for scn in attacks:
        assert scn.references, scn.id
        keys = {k for k, t, lvl in _fired(scn.id) if lvl != "informational"}
        events = scenario_stream(scn, 1)
        malicious = {e.truth.event_key for e in events if e.truth.malicious and e.truth.expect.get("iis")}
        assert malicious <= keys, (scn.id, sorted(malicious - keys))


def test_public_source_scenarios_count() -> None:
    """Acceptance: >= 25 new scenarios from public sources, >= 15 attacks and >= 10 benign."""
    scns = {s.id: s for s in load_scenarios()}
    benign = [i for i in VENDOR if i not in ("benign_msiexec_url_rewrite_arr", "benign_apm_agents")]
    assert len(benign) >= 10 and all(scns[i].references for i in benign)
    new_attacks = [
        "iis_raid_native_module", "exchange_updata_system_dll", "builtin_module_repointed", "mwa_api_global_module",
        "renamed_appcmd_install", "direct_apphost_edit_script", "webshell_webconfig_managed_module",
        "logging_off_set_site", "logging_selective_pwsh", "webshell_encoded_module_install",
        "webshell_gacutil_managed_module", "isapi_filter_load_failure", "module_entrypoint_missing",
        "module_dll_missing_2280", "pwsh7_new_webglobalmodule", "exchange_httpproxy_bin_module",
        "masquerade_rewrite_dll_load", "owowa_owa_module", "system32_dll_certutil_drop",
    ]  # fmt: skip
    assert len(new_attacks) >= 15 and all(scns[i].kind == "attack" and scns[i].references for i in new_attacks)
