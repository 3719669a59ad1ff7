#!/usr/bin/env bash
# Builds (through setup.sh) and runs every test. As root, the "root" tests load and attach
# the real BPF programs and must pass; as a normal user only the unit tests run.
# With CI=true or --full it then also rebuilds everything under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/) and runs the suite again, and runs each libFuzzer
# target for a bounded time (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
full=${CI:-false}
if [[ ${1:-} == --full ]]; then full=true; shift; fi
bash scripts/setup.sh
labels=()
if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: not root: running unit tests only (label unit)" >&2
  labels=(-L unit)
fi
cmake --build build -j"$(nproc)"
# As root the suite runs in a private mount namespace with tracefs and debugfs unmounted: a
# stock machine has neither mounted, and a developer's mounts must not hide a missing step.
run_ctest() {
  if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null; then
    unshare --mount --propagation private bash -c '
      for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
        umount -l "$m" 2>/dev/null || true
      done
      exec "$@"' run_ctest ctest "$@"
  else
    ctest "$@"
  fi
}
run_ctest --test-dir build --output-on-failure "${labels[@]}" "$@"
if [[ $full == true ]]; then
  echo "test.sh: sanitizer build (ASan+UBSan) in build-asan/"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNETVIZ_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$(nproc)" >/dev/null
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest --test-dir build-asan --output-on-failure "${labels[@]}" "$@"
  echo "test.sh: fuzzing each parser for ${NETVIZ_FUZZ_SECONDS:-20}s"
  bash scripts/fuzz.sh "${NETVIZ_FUZZ_SECONDS:-20}"
fi
