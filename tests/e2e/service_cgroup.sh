#!/usr/bin/env bash
# Services from cgroups, end to end (root): the test makes a cgroup shaped like a systemd unit
# (netviz-test-PID.slice/netviz-demo.service) under the cgroup v2 mount, starts a socat echo
# server inside it and connects to it from outside. Checks:
#   - the capture's process entry for the server and its server-side flows say
#     "service": "netviz-demo.service";
#   - netviz-stitch --view service draws an edge into s:HOST|netviz-demo.service, and the
#     process view labels the socat node with the service;
#   - the tracer's table has a SERVICE column with the unit on the server's lines.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init service
rs_need socat

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[[ -n $cg2 ]] || rs_fail "no cgroup2 mount in /proc/self/mounts"
slice="$cg2/netviz-test-$$.slice"
unit="$slice/netviz-demo.service"
mkdir -p "$unit" || rs_fail "cannot make $unit"
# Runs before the kills: stop the server, then remove the (by then empty) cgroups.
rs_on_exit 'pkill_server; for _ in $(seq 30); do rmdir "$unit" 2>/dev/null && break; sleep 0.1; done; rmdir "$slice"'
pkill_server() { [[ -n ${server:-} ]] && kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }

# The server joins the cgroup before it execs, so every process of it is inside.
start_server() {
  rs_bg "socat-server$1" bash -c 'echo $$ >"$1/cgroup.procs" && exec socat \
    "TCP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" EXEC:cat' _ "$unit" "$port"
  server=$rs_last_pid
  rs_wait_tcp "$port" || rs_fail "socat does not listen on $port"
  grep -qx "0::/netviz-test-$$.slice/netviz-demo.service" "/proc/$server/cgroup" ||
    rs_fail "server not in the test cgroup: $(cat "/proc/$server/cgroup")"
}
clients=3
talk() {
  for i in $(seq "$clients"); do
    out=$(socat - "TCP:127.0.0.1:$port,shut-down" <<<"line $i") || rs_fail "client $i failed"
    [[ $out == "line $i" ]] || rs_fail "client $i got '$out'"
  done
}

port=$(rs_port)
rs_trace_start "$tmp/capture.json"
start_server 1
talk
sleep 0.3
rs_trace_stop
c=$tmp/capture.json

rs_eq "service of the server process" netviz-demo.service \
  "$(jq -r --argjson p "$server" '.processes[] | select(.pid == $p) | .service' "$c")"
rs_split_tcp "$c" "$port" "$clients"
rs_eq "server-side flows with the service" "$clients" \
  "$(jq -c 'select(.service == "netviz-demo.service")' "$tmp/server.jsonl" | wc -l)"
rs_eq "client-side flows with the demo service" 0 \
  "$(jq -c 'select(.service == "netviz-demo.service")' "$tmp/client.jsonl" | wc -l)"

host=$(jq -r .host.name "$c")
"$NETVIZ_STITCH" --view service --format json -o "$tmp/graph.json" "$c" 2>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch --view service failed"
got=$(jq -r --argjson port "$port" '.edges[] | select(.port == $port)
  | "\(.to) \(.joined) flows=\(.flows)"' "$tmp/graph.json")
rs_eq "service-view edges on $port" "s:$host|netviz-demo.service both flows=$clients" "$got"
rs_eq "service node type" service \
  "$(jq -r --arg id "s:$host|netviz-demo.service" '.nodes[] | select(.id == $id) | .type' "$tmp/graph.json")"
"$NETVIZ_STITCH" --view service -o "$tmp/graph.dot" "$c" 2>>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch --view service (DOT) failed"
grep -q 'netviz-demo.service' "$tmp/graph.dot" || rs_fail "DOT has no node for the service"
"$NETVIZ_STITCH" --format json -o "$tmp/process.json" "$c" 2>>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch (process view) failed"
rs_eq "process view: the server's node carries the service" netviz-demo.service \
  "$(jq -r --arg id "p:$host|socat" '.nodes[] | select(.id == $id) | .service' "$tmp/process.json" |
     tr ', ' '\n\n' | grep -x netviz-demo.service)"
echo "ok: stitched: an edge into the service node; the process view labels socat with it"

# The table: a fresh server in the same cgroup, traced as a person would watch it.
pkill_server
port=$(rs_port)
"$NETVIZ_TRACE" --format table --duration 4 >"$tmp/table.txt" 2>"$tmp/table-trace.log" &
tpid=$!
rs_pids+=("$tpid")
for _ in $(seq 300); do
  grep -q "netviz-trace: tracing" "$tmp/table-trace.log" 2>/dev/null && break
  sleep 0.1
done
start_server 2
talk
wait "$tpid" || rs_fail "netviz-trace --format table failed: $(tail -3 "$tmp/table-trace.log")"
grep -q ' SERVICE ' "$tmp/table.txt" || rs_fail "no SERVICE column: $(head -3 "$tmp/table.txt")"
n=$(grep -c "socat .*netviz-demo.service .*127.0.0.1:$port " "$tmp/table.txt" || true)
((n >= clients)) || rs_fail "table lines of the server with its service: $n: $(grep "$port" "$tmp/table.txt" | head -5)"
echo "ok: table: $n lines of the server carry netviz-demo.service"
echo "PASS service_cgroup"
