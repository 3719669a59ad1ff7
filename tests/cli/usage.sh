#!/usr/bin/env bash
# A new user's first mistakes, no root needed: --version, a bad option value, a misspelt
# option, a missing input file. Each must fail with one line on stderr that says what is
# wrong, and leave no output file behind.
set -euo pipefail

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
: "${NETVIZ_VERSION:?the project version}"

tmp=$(mktemp -d /tmp/nvt-cli-usage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run NAME CMD...: runs CMD with stdout and stderr in $tmp/NAME.{out,err}; sets rc.
run() {
  local name=$1
  shift
  rc=0
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
}

# fails_with_one_line NAME PATTERN: nonzero exit, nothing on stdout, exactly one line on
# stderr and it matches PATTERN (grep -E).
fails_with_one_line() {
  local name=$1 pattern=$2
  ((rc != 0)) || fail "$name: exit code 0"
  [[ ! -s $tmp/$name.out ]] || fail "$name: wrote to stdout: $(head -c 200 "$tmp/$name.out")"
  local lines
  lines=$(wc -l <"$tmp/$name.err")
  ((lines == 1)) || fail "$name: $lines lines on stderr: $(head -c 400 "$tmp/$name.err")"
  grep -qE -- "$pattern" "$tmp/$name.err" ||
    fail "$name: stderr does not match '$pattern': $(cat "$tmp/$name.err")"
}

for tool in netviz-trace netviz-stitch; do
  bin=$NETVIZ_TRACE
  [[ $tool == netviz-stitch ]] && bin=$NETVIZ_STITCH
  run "$tool-version" "$bin" --version
  ((rc == 0)) || fail "$tool --version: exit code $rc"
  [[ $(cat "$tmp/$tool-version.out") == "$tool $NETVIZ_VERSION" ]] ||
    fail "$tool --version printed '$(cat "$tmp/$tool-version.out")', not '$tool $NETVIZ_VERSION'"
done

mkdir "$tmp/out"
run duration-abc "$NETVIZ_TRACE" --duration abc -o "$tmp/out/trace.json"
fails_with_one_line duration-abc '^netviz-trace: --duration: .*positive number'

run duraton "$NETVIZ_TRACE" --duraton 5 -o "$tmp/out/trace.json"
fails_with_one_line duraton '^netviz-trace: unknown option --duraton; did you mean --duration\?$'

run bad-state "$NETVIZ_TRACE" --snapshot --state establised -o "$tmp/out/snap.json"
fails_with_one_line bad-state '^netviz-trace: --state: unknown state "establised"'

run bad-proto "$NETVIZ_TRACE" --snapshot --proto tcpp -o "$tmp/out/snap.json"
fails_with_one_line bad-proto '^netviz-trace: --proto: '

run stitch-missing "$NETVIZ_STITCH" "$tmp/missing.json" -o "$tmp/out/graph.dot"
fails_with_one_line stitch-missing "^netviz-stitch: .*$tmp/missing\\.json"

run stitch-typo "$NETVIZ_STITCH" --extrenal "$tmp/missing.json"
fails_with_one_line stitch-typo '^netviz-stitch: unknown option --extrenal; did you mean --external\?$'

# Fleet options: checked before anything connects (port 1 answers nobody), secrets masked.
run sub-url "$NETVIZ_STITCH" --subscribe "http://u:pa55@127.0.0.1:1" -o "$tmp/out/g.dot"
fails_with_one_line sub-url '^netviz-stitch: --subscribe: http://u:\*\*\*@127\.0\.0\.1:1: the scheme'
grep -q pa55 "$tmp/sub-url.err" && fail "sub-url: the password was printed"
run sub-since "$NETVIZ_STITCH" --subscribe nats://127.0.0.1:1 --since yesterday -o "$tmp/out/g.dot"
fails_with_one_line sub-since '^netviz-stitch: --since: expected a duration'
run sub-durable "$NETVIZ_STITCH" --subscribe nats://127.0.0.1:1 --durable a.b -o "$tmp/out/g.dot"
fails_with_one_line sub-durable '^netviz-stitch: --durable: "a\.b"'
run sub-window "$NETVIZ_STITCH" --subscribe nats://127.0.0.1:1 --window 5x -o "$tmp/out/g.dot"
fails_with_one_line sub-window '^netviz-stitch: --window: expected a duration'
run sub-files "$NETVIZ_STITCH" --subscribe nats://127.0.0.1:1 "$tmp/missing.json"
fails_with_one_line sub-files '^netviz-stitch: --subscribe: give either input files or --subscribe'
run durable-alone "$NETVIZ_STITCH" --durable x "$tmp/missing.json"
fails_with_one_line durable-alone '^netviz-stitch: --durable, --since, --window: only with --subscribe'

run sub-creds "$NETVIZ_STITCH" --subscribe nats://127.0.0.1:1 --nats-creds "$tmp/missing.creds"
fails_with_one_line sub-creds "^netviz-stitch: --nats-creds: $tmp/missing\\.creds: No such file"

# Nothing half-written, no temporary file either.
leftover=$(ls -A "$tmp/out")
[[ -z $leftover ]] || fail "files left behind after errors: $leftover"

if ((failures)); then
  echo "usage.sh: $failures failure(s)" >&2
  exit 1
fi
echo "usage.sh: ok"
