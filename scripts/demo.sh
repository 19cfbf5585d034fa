#!/usr/bin/env bash
# README command 1: set up, then hunt the bundled example data (simulated attacks + benign activity).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== iisdetect hunt examples/ --tuning examples/tuning.example.yaml (default ruleset: iis) =="
.venv/bin/iisdetect hunt examples/ --tuning examples/tuning.example.yaml "$@"
echo
echo "== the same data with the seed ruleset (the QRadar rule, reproduced faithfully) =="
.venv/bin/iisdetect hunt examples/ --ruleset seed --no-correlate "$@"
