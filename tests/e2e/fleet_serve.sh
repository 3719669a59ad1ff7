#!/usr/bin/env bash
# The live page fed by the fleet (root): a real `nats-server -js`, one network namespace traced
# with `netviz-trace --netns X --publish`, and `netviz-stitch --serve --subscribe` reading the
# stream from NATS. Checked: a connection made after the page started shows up in /graph.json
# as the client → server edge, with the connection count in /metrics; files and --subscribe
# together are refused with one line; SIGINT ends the server with status 0.
set -euo pipefail

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
for t in nats-server curl jq python3; do
  command -v "$t" >/dev/null || { echo "FAIL: $t not installed (scripts/setup.sh)" >&2; exit 1; }
done

ns=nvt-fs-$$
tmp=$(mktemp -d /tmp/nvt-fleet-serve.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  [[ -n ${NETVIZ_KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -8 "$f" >&2; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() {  # FILE TEXT [tenths]
  for _ in $(seq "${3:-150}"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# Files and a subscription together: one line, exit 2, nothing served.
echo '{}' >"$tmp/empty.json"
set +e
"$NETVIZ_STITCH" --serve 127.0.0.1:0 --subscribe nats://127.0.0.1:1 "$tmp/empty.json" 2>"$tmp/both.err"
rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$tmp/both.err") == 1 ]] || fail "files with --subscribe: exit $rc, $(cat "$tmp/both.err")"
grep -q -- "--subscribe" "$tmp/both.err" || fail "the message does not name --subscribe: $(cat "$tmp/both.err")"

nport=$(free_port)
url=nats://127.0.0.1:$nport
nats-server -js -sd "$tmp/js" -a 127.0.0.1 -p "$nport" >"$tmp/nats.log" 2>&1 &
pids+=($!)
wait_line "$tmp/nats.log" "Server is ready" || fail "nats-server did not start"

ip netns add "$ns"
ip -n "$ns" link set lo up
"$NETVIZ_TRACE" --netns "$ns" --duration 120 --publish "$url" >/dev/null 2>"$tmp/trace.log" &
tracer=$!
pids+=($tracer)
wait_line "$tmp/trace.log" "tracing" || fail "netviz-trace did not start"

hport=$(free_port)
"$NETVIZ_STITCH" --serve "127.0.0.1:$hport" --subscribe "$url" 2>"$tmp/serve.log" &
stitch=$!
pids+=($stitch)
wait_line "$tmp/serve.log" "serving http://127.0.0.1:$hport/" || fail "netviz-stitch --serve did not start"

# A server and a client with names of their own: 5 connections, then the client exits.
cat >"$tmp/peer.py" <<'PY'
import ctypes, socket, sys
role, n = sys.argv[1], int(sys.argv[2])
ctypes.CDLL(None).prctl(15, (b"websrv" if role == "server" else b"webcli"), 0, 0, 0)
if role == "server":
    s = socket.socket(); s.bind(("127.0.0.1", 8081)); s.listen(16)
    print("listening", flush=True)
    for _ in range(n):
        c, _ = s.accept(); c.recv(100); c.sendall(b"y"); c.close()
else:
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", 8081)); c.sendall(b"x"); c.recv(10); c.close()
PY
ip netns exec "$ns" python3 "$tmp/peer.py" server 5 >"$tmp/server.log" 2>&1 &
pids+=($!)
wait_line "$tmp/server.log" listening || fail "the test's server did not start"
ip netns exec "$ns" python3 "$tmp/peer.py" client 5 || fail "the test's client failed"
made=$(date +%s.%N)

# The edge arrives through NATS: tracer → stream → consumer → graph.
edge='.edges[] | select((.from | endswith("|webcli")) and (.to | endswith("|websrv")) and .port == 8081)'
found=
for _ in $(seq 300); do
  if curl -sf "http://127.0.0.1:$hport/graph.json" -o "$tmp/graph.json" 2>/dev/null &&
    [[ -n $(jq -c "$edge" "$tmp/graph.json") ]]; then
    found=$(date +%s.%N)
    break
  fi
  sleep 0.1
done
[[ -n $found ]] || fail "no webcli -> websrv edge on the page after 30 s: $(cat "$tmp/graph.json" 2>/dev/null)"
echo "ok: the edge was on the page $(python3 -c "print(round($found - $made, 2))") s after the last connection"

# /metrics counts the five connections on that edge (a counter reaching 5 as the tracer
# reports them all; closes may arrive a little after the first lines).
metric=
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$hport/metrics" -o "$tmp/metrics.txt"
  metric=$(awk '/^netviz_edge_flows_total\{/ && /src_comm="webcli"/ && /dst_comm="websrv"/ {print $2}' "$tmp/metrics.txt")
  [[ $metric == 5 ]] && break
  sleep 0.1
done
[[ $metric == 5 ]] || fail "netviz_edge_flows_total webcli -> websrv: '$metric', expected 5: $(grep edge_flows "$tmp/metrics.txt")"
echo "ok: /metrics netviz_edge_flows_total webcli -> websrv = 5"

kill -INT "$stitch"
rc=0
wait "$stitch" || rc=$?
[[ $rc == 0 ]] || fail "netviz-stitch --serve --subscribe ended with $rc on SIGINT"
kill -INT "$tracer"
wait "$tracer" || fail "netviz-trace failed"
echo "PASS fleet_serve"
