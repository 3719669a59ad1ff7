#!/usr/bin/env bash
# `netviz-trace | netviz-stitch --follow -` (root): the graph's changes arrive as JSON lines
# while the tracer runs, the DOT file is rewritten every second, and both end cleanly when
# the tracer is interrupted.
set -euo pipefail

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
command -v dot >/dev/null || { echo "FAIL: dot (graphviz) not installed" >&2; exit 1; }

ns=nvt-g-f$$
tmp=$(mktemp -d /tmp/nvt-g-follow.XXXXXX)
trace_pid=
cleanup() {
  [[ -n $trace_pid ]] && kill "$trace_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -5 "$tmp"/*.log "$tmp/changes.jsonl" >&2 || true; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up

mkfifo "$tmp/pipe"
"$NETVIZ_STITCH" --follow - -o "$tmp/graph.dot" --every 1 <"$tmp/pipe" >"$tmp/changes.jsonl" \
  2>"$tmp/stitch.log" &
stitch_pid=$!
"$NETVIZ_TRACE" --netns "$ns" >"$tmp/pipe" 2>"$tmp/trace.log" &
trace_pid=$!
for _ in $(seq 150); do grep -q tracing "$tmp/trace.log" 2>/dev/null && break; sleep 0.1; done
grep -q tracing "$tmp/trace.log" || fail "netviz-trace did not start"

ip netns exec "$ns" python3 -c '
import ctypes, os, socket, time
libc = ctypes.CDLL(None)
s = socket.socket(); s.bind(("127.0.0.1", 7100)); s.listen()
if os.fork() == 0:  # the server: its own process and command name
    libc.prctl(15, b"fsrv", 0, 0, 0)
    a, _ = s.accept()
    while a.recv(1000): pass
    os._exit(0)
libc.prctl(15, b"fcli", 0, 0, 0)
time.sleep(0.2)
c = socket.create_connection(("127.0.0.1", 7100))
c.sendall(b"y" * 500)
time.sleep(1.5)
c.close()
os.wait()
'

# The edge shows up while the tracer still runs.
for _ in $(seq 50); do grep -q '"change":"edge_added"' "$tmp/changes.jsonl" && break; sleep 0.1; done
grep -q '"change":"edge_added"' "$tmp/changes.jsonl" || fail "no edge_added while tracing"
sleep 1.5
[[ -s $tmp/graph.dot ]] || fail "graph.dot not written by --every 1"

kill -INT "$trace_pid"
wait "$trace_pid" || fail "netviz-trace exit status $?"
trace_pid=
wait "$stitch_pid" || fail "netviz-stitch --follow exit status $?"

python3 - "$tmp/changes.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
seqs = [l["seq"] for l in lines]
assert seqs == list(range(1, len(lines) + 1)), "sequence numbers: %s" % seqs
edges = [l["edge"] for l in lines if l["change"].startswith("edge_")]
mine = [e for e in edges if e["from"].endswith("|fcli") and e["to"].endswith("|fsrv")]
assert mine, "no fcli -> fsrv edge in %s" % edges
assert mine[0]["port"] == 7100 and mine[0]["joined"] == "both", mine[0]
kinds = [l["change"] for l in lines if "edge" in l and l["edge"] in mine]
assert "edge_closed" in kinds, "the connection closed but no edge_closed: %s" % kinds
print("ok: %d changes" % len(lines))
PY
grep -q '|fcli" -> ".*|fsrv"' "$tmp/graph.dot" || fail "final graph.dot lacks the edge"
dot -Tsvg "$tmp/graph.dot" -o "$tmp/graph.svg" 2>"$tmp/dot.log" || fail "dot failed"
[[ ! -s $tmp/dot.log ]] || fail "dot complained"
echo "PASS stitch_follow"
