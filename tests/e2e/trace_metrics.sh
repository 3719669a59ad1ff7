#!/usr/bin/env bash
# netviz-trace --metrics, end to end (root): a tracer on a private port with --port set to a
# test server's port; N loopback connections; /metrics scraped with curl while it runs.
# Checks: promtool check metrics passes; netviz_trace_flows_total over the server's port sums
# to 2N (client and server side of each connection, comm python3, remote 127.0.0.1); no lost
# events; POST is refused; a bad address and a port in use end with one line and exit 2.
set -euo pipefail
trace=${NETVIZ_TRACE:?NETVIZ_TRACE: the netviz-trace binary}
tmp=$(mktemp -d /tmp/nvt-metrics.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in curl promtool /usr/bin/python3; do command -v "$t" >/dev/null || fail "$t missing (scripts/setup.sh)"; done
source "$(dirname "$0")/lib/serve_helpers.sh"

conns=5
port=$(free_port)
mport=$(free_port)
cat >"$tmp/server.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(b"x")
    c.close()
PY
/usr/bin/python3 "$tmp/server.py" "$port" & pids+=($!)

"$trace" --metrics "127.0.0.1:$mport" --port "$port" --duration 6 -o "$tmp/capture.json" \
  2>"$tmp/err" & tracer=$!; pids+=($tracer)
for _ in $(seq 300); do grep -q "tracing" "$tmp/err" && break; sleep 0.1; done
grep -q "tracing" "$tmp/err" || fail "the tracer did not start: $(cat "$tmp/err")"
grep -q "metrics at http://127.0.0.1:$mport/metrics" "$tmp/err" || fail "no metrics line: $(cat "$tmp/err")"

# Tracing has begun and the capabilities are gone: the HTTP thread runs now, not before.
[[ $(awk '/^CapEff/ {print $2}' "/proc/$tracer/status") != $(awk '/^CapEff/ {print $2}' /proc/self/status) ]] ||
  fail "the tracer still has every capability while serving"
for i in $(seq "$conns"); do
  /usr/bin/python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.recv(1); s.close()' "$port"
done
sleep 1.5  # the session updates the run counters twice a second
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || fail "scrape failed"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/metrics")
[[ $code == 405 ]] || fail "POST /metrics answered $code, not 405"

# A second tracer on the same metrics port: one line, exit 2, before any hook loads.
set +e
"$trace" --metrics "127.0.0.1:$mport" --duration 1 >/dev/null 2>"$tmp/inuse.err"; rc=$?
"$trace" --metrics "127.0.0.1:99999" --duration 1 >/dev/null 2>"$tmp/bad.err"; rc2=$?
set -e
[[ $rc == 2 && $(wc -l <"$tmp/inuse.err") == 1 ]] || fail "port in use: rc $rc, $(cat "$tmp/inuse.err")"
grep -q "^netviz-trace: --metrics: cannot listen on 127.0.0.1:$mport" "$tmp/inuse.err" ||
  fail "port in use: $(cat "$tmp/inuse.err")"
[[ $rc2 == 2 && $(wc -l <"$tmp/bad.err") == 1 ]] || fail "bad address: rc $rc2, $(cat "$tmp/bad.err")"
grep -q "^netviz-trace: --metrics: expected" "$tmp/bad.err" || fail "bad address: $(cat "$tmp/bad.err")"
echo "ok: port in use and bad address: one line, exit 2"

wait "$tracer" || fail "the tracer failed: $(cat "$tmp/err")"
promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1 ||
  fail "promtool check metrics: $(cat "$tmp/promtool.out")"
echo "ok: promtool check metrics passes"

value() { awk -v n="$1" '$1 == n {print $2}' "$tmp/metrics.txt"; }
flows=$(awk '/^netviz_trace_flows_total\{/ {s += $2} END {print s + 0}' "$tmp/metrics.txt")
ours=$(value 'netviz_trace_flows_total{comm="python3",proto="tcp",remote="127.0.0.1"}')
[[ $flows == $((2 * conns)) && $ours == $((2 * conns)) ]] ||
  fail "netviz_trace_flows_total: $flows in all, $ours python3 -> 127.0.0.1; expected $((2 * conns)): $(grep flows_total "$tmp/metrics.txt")"
# The capture of the same run agrees: its flows on the port are what the counter said.
captured=$(jq --argjson p "$port" '[.flows[] | select(.attribution != "scan" and (.local.port == $p or .remote.port == $p))] | length' "$tmp/capture.json")
[[ $captured == "$flows" ]] || fail "capture has $captured traced flows on $port, /metrics said $flows"
traced=$(value netviz_trace_flows_traced_total)
(( traced >= 2 * conns )) || fail "netviz_trace_flows_traced_total $traced < $((2 * conns))"
(( $(value netviz_trace_events_total) > 0 )) || fail "no events counted"
for w in kernel user transport; do
  [[ $(value "netviz_trace_lost_events_total{where=\"$w\"}") == 0 ]] || fail "lost events ($w): $(grep lost "$tmp/metrics.txt")"
done
echo "ok: $conns connections -> netviz_trace_flows_total $flows (client and server side), 0 lost"
# Ring buffer use: the records of those connections waited in it, never more than it holds;
# the capture's end-of-run figures agree with what /metrics said during the run.
size=$(value netviz_trace_ring_buffer_size_bytes); peak=$(value netviz_trace_ring_buffer_peak_used_bytes)
used=$(value netviz_trace_ring_buffer_used_bytes)
cap_size=$(jq '.stats.ring_buffer_bytes' "$tmp/capture.json")
cap_peak=$(jq '.stats.ring_buffer_peak_used_bytes' "$tmp/capture.json")
[[ $size == "$cap_size" ]] && (( size > 0 )) || fail "ring buffer size: /metrics $size, capture $cap_size"
(( peak > 0 && peak <= size && used <= peak )) || fail "ring buffer use: used $used, peak $peak, size $size"
(( cap_peak >= peak && cap_peak <= size )) || fail "ring buffer peak: capture $cap_peak, /metrics $peak"
echo "ok: ring buffer peak $peak of $size bytes (capture: $cap_peak)"
