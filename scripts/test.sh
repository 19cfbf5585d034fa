#!/usr/bin/env bash
# README command 2: set up, lint, run the whole test suite, then validate every ruleset on the scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest "$@"
.venv/bin/iisdetect validate --ruleset all
