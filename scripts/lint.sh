#!/usr/bin/env bash
# `make lint`: ruff's checks and its formatter in check mode. Both run, so one report shows every problem.
set -euo pipefail

cd "$(dirname "$0")/.."
bash scripts/venv.sh requirements-dev.txt

rc=0
.venv/bin/python -m ruff check . || rc=1
.venv/bin/python -m ruff format --check . || rc=1
exit "$rc"
