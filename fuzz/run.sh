#!/usr/bin/env bash
# Builds the libFuzzer targets (`fuzz` preset: clang, ASan, UBSan), replays the checked-in seeds
# and regression files, then fuzzes each target for a bounded time. Fails on any finding; the
# input that triggered it is left in build/fuzz/findings/<target>/ — fix the bug, then copy the
# file into fuzz/regressions/<target>/ so that it replays as a test from then on.
#
#   bash fuzz/run.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(csv date pipeline)

cmake --preset fuzz
cmake --build --preset fuzz --parallel "$(nproc)"
ctest --preset fuzz

status=0
for target in "${targets[@]}"; do
  work="build/fuzz/corpus/${target}"
  findings="build/fuzz/findings/${target}"
  rm -rf "$findings"
  mkdir -p "$work" "$findings"
  echo "== fuzz_${target}: ${seconds} s"
  # New inputs go to the scratch corpus (first folder); the checked-in seeds are only read.
  if ! "build/fuzz/fuzz/fuzz_${target}" "$work" "fuzz/corpus/${target}" \
       -seed=1 -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="${findings}/" 2>&1 | tail -n 40; then
    status=1
  fi
  if [ -n "$(ls -A "$findings")" ]; then
    echo "fuzz_${target}: FINDING(S) in ${findings}:"; ls -l "$findings"
    status=1
  fi
done
exit "$status"
