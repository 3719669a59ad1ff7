#!/usr/bin/env bash
# Builds (through setup.sh) and runs every test. As root, the "root" tests load and attach
# the real BPF programs and must pass; as a normal user only the unit tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ $(id -u) -eq 0 ]]; then
  ctest --test-dir build --output-on-failure -j1 "$@"
else
  echo "test.sh: not root: running unit tests only (label unit)" >&2
  ctest --test-dir build --output-on-failure -L unit "$@"
fi
