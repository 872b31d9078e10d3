#!/usr/bin/env bash
# The main job: `scripts/run.sh [transactions.csv] [options]`. Without a file it simulates a demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
bash scripts/python-env.sh >&2
exec .venv/bin/python -m crmkit report "$@"
