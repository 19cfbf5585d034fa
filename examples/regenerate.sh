#!/bin/sh
# Regenerate the bundled example logs from the scenario simulator (deterministic: --seed 1).
# Run from the repository root:  sh examples/regenerate.sh
set -e
cd "$(dirname "$0")/.."
iisdetect simulate --seed 1 --no-truth -o examples --format evtx-json --merge web01-appcmd-and-rgdoor \
  --background-events 40 \
  art_t1505_004_1_appcmd_install art_t1505_004_2_new_webglobalmodule module_removed_cleanup \
  seed_test2_write_dll_inetsrv rgdoor_native_module benign_defender_w3wp_loads benign_iis_config_history
iisdetect simulate --seed 1 --no-truth -o examples --format xml --merge mail01-owaauth-filter \
  --background-events 30 \
  owaauth_isapi_filter benign_windows_servicing_tiworker benign_msiexec_url_rewrite_arr
iisdetect simulate --seed 1 --no-truth -o examples --format ecs --merge web04-logging-webshell-iceapple \
  --background-events 30 \
  logging_disabled_then_module webshell_appcmd_add_module iceapple_managed_module \
  benign_apm_agents benign_web_deployment_bin benign_aspnet_compilation benign_developer_profile_dlls
