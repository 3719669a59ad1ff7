#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in build-fuzz/ and runs each for a
# bounded time over its seed corpus (tests/fuzz/corpus/<target>/, never modified). A crash
# fails the run and leaves the reproducer in build-fuzz/crashes/; turn each one into a
# regression test and a seed.
#   scripts/fuzz.sh [seconds-per-target]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DNETVIZ_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
status=0
for seeds in tests/fuzz/corpus/*/; do
  target=$(basename "$seeds")
  bin=build-fuzz/tests/fuzz/$target
  [[ -x $bin ]] || { echo "fuzz: no target $target for $seeds" >&2; status=1; continue; }
  work=$(mktemp -d)
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix=build-fuzz/crashes/"$target"- "$work" "$seeds" >"build-fuzz/$target.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "build-fuzz/$target.log" | tail -1)
    echo "fuzz: $target ok (${runs:-?} in ${secs}s)"
  else
    echo "fuzz: $target FAILED; see build-fuzz/$target.log and build-fuzz/crashes/" >&2
    tail -30 "build-fuzz/$target.log" >&2
    status=1
  fi
  rm -rf "$work"
done
exit $status
