#!/usr/bin/env bash
# The layer rule (scripts/check-layers) holds for src/, and the check still sees an upward
# include when one is planted in a copy (so a broken check cannot pass quietly).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bash "$root/scripts/check-layers" "$root/src"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/src" "$work/src"
echo '#include "trace/live_table.h"' >>"$work/src/sinks/event_table.cpp"
if out=$(bash "$root/scripts/check-layers" "$work/src"); then
  echo "layers.sh: a sinks -> trace include was not reported" >&2
  exit 1
fi
grep -q 'sinks/event_table.cpp:.*trace/live_table.h' <<<"$out" ||
  { echo "layers.sh: the report does not name the planted include: $out" >&2; exit 1; }
