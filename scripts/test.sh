#!/usr/bin/env bash
# README command 2: set up, lint, run the whole test suite, validate every ruleset on the scenarios,
# then build the wheel and run every command from a fresh venv outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest "$@"
.venv/bin/iisdetect validate --ruleset all
bash scripts/check_wheel.sh
