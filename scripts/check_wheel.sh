#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the checkout, and run every command from
# another folder: proves that everything read at run time (rulesets, mappings, scenarios, module
# baseline) ships as package data. Part of the README's test command (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/iisdetect-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf dist
.venv/bin/python -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist . >/dev/null
wheel=$(ls dist/iisdetect-*.whl)
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" 2>"$work/pip.log" \
  || { cat "$work/pip.log" >&2; exit 1; }
cp -r examples "$work/examples"
cd "$work"  # no checkout here: only the installed package can supply rules and data
bin="$work/venv/bin/iisdetect"
"$bin" --version
"$bin" hunt examples/ --tuning examples/tuning.example.yaml --format json -o hunt.json 2>/dev/null
"$work/venv/bin/python" - <<'PY'
import json
doc = json.load(open("hunt.json"))
assert doc["summary"]["records_read"] > 0 and doc["incidents"], "wheel hunt found nothing"
PY
"$bin" hunt examples/ --ruleset seed --no-correlate --format csv >/dev/null 2>&1
"$bin" export --target qradar --last 2w -o export.aql 2>/dev/null && grep -q "LAST 14 DAYS" export.aql
"$bin" aql "SELECT COUNT(*) AS n FROM events" examples/ --format csv 2>/dev/null | grep -q "^[0-9]"
"$bin" simulate --list >/dev/null
"$bin" simulate seed_test2_write_dll_inetsrv -o sim >/dev/null 2>&1 && ls sim | grep -q .
"$bin" validate --ruleset seed --background-events 0 >/dev/null
"$bin" audit examples/triage/web01-velociraptor.tar.gz --min-level high --format ndjson 2>/dev/null | grep -q IIS_Audit_History_Added
echo "wheel check: $(basename "$wheel") installed in a fresh venv; hunt, export, aql, simulate, validate, audit work outside the checkout"
cd "$ROOT" && rm -rf dist build
