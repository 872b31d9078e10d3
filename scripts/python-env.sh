#!/usr/bin/env bash
# Creates .venv (Debian's python3, system site packages) and installs crmkit into it, offline.
# Usage: scripts/python-env.sh [cmake-build-dir-to-reuse]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
if [ $# -ge 1 ]; then export CRMKIT_CMAKE_BUILD_DIR="$1"; fi
.venv/bin/python -m pip install --quiet --no-build-isolation --no-index --disable-pip-version-check .
