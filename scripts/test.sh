#!/usr/bin/env bash
# The whole test suite: C++ (CTest, doctest) and Python (pytest against the pip-installed package).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release
cmake --build --preset release --parallel "$(nproc)"
ctest --preset release --parallel "$(nproc)"
bash scripts/python-env.sh build/release
# The report's parity test runs the C++ tool built above against the Python report.
CRMKIT_HYPOTHESIS_PROFILE=ci CRMKIT_CLI="$PWD/build/release/tools/cli/crmkit" .venv/bin/python -m pytest --timeout 900
