#!/usr/bin/env bash
# The main job: `scripts/run.sh [transactions.csv] [options]`. Without a file it simulates a demo.
# The first run configures and builds the CMake release tree (build/release); later runs reuse it,
# as scripts/test.sh does, so the extension is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh >&2
if [ ! -f build/release/CMakeCache.txt ]; then
  cmake --preset release >&2
fi
cmake --build build/release --target _core crmkit_cli --parallel "$(nproc)" >&2
bash scripts/python-env.sh build/release >&2
exec .venv/bin/python -m crmkit report "$@"
