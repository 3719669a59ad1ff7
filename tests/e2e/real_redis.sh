#!/usr/bin/env bash
# redis (Debian's redis-server and redis-tools), end to end (root). The server starts BEFORE the
# trace (its listening socket is older than the tracer). redis-benchmark -k 0 opens a new TCP
# connection per request. The server's own counter (INFO stats total_connections_received,
# read over a unix socket so the reads are no TCP flows) says how many connections it took.
# Checks:
#   - netviz's server-side flows on the port == the server's counter over the run, >= the
#     requests redis-benchmark completed; client-side flows the same, each paired;
#   - each server-side flow is owned by redis-server (its pid and comm, accept, inbound);
#   - each client-side flow by redis-benchmark (its pid and comm, connect, outbound);
#   - stats: 0 lost; stitching gives one edge redis-benchmark -> redis-server joined on both
#     ends, no one-sided edge.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init redis
rs_need redis-server redis-cli redis-benchmark
requests=400 clients=10

port=$(rs_port)
rs_bg redis redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --dir "$tmp" --unixsocket "$tmp/redis.sock"
server=$rs_last_pid
rs_wait_tcp "$port" || rs_fail "redis-server does not listen on $port"
for _ in $(seq 100); do [[ -S $tmp/redis.sock ]] && break; sleep 0.1; done
conns_received() {
  redis-cli -s "$tmp/redis.sock" info stats | tr -d '\r' | sed -n 's/^total_connections_received://p'
}

rs_trace_start "$tmp/capture.json"
before=$(conns_received)
redis-benchmark -h 127.0.0.1 -p "$port" -t set -n "$requests" -c "$clients" -k 0 \
  >"$tmp/benchmark.log" 2>&1 &
bench_pid=$!
wait "$bench_pid" || rs_fail "redis-benchmark failed"
after=$(conns_received)
# Less the unix-socket connection of the second read (the first read counted itself already).
conns=$((after - before - 1))
completed=$(sed -n 's/^ *\([0-9]*\) requests completed in.*/\1/p' "$tmp/benchmark.log" | tail -1)
rs_eq "redis-benchmark: requests completed" "$requests" "$completed"
((conns >= completed)) || rs_fail "redis counted $conns connections for $completed requests with -k 0"
echo "ok: redis-server counted $conns TCP connections of redis-benchmark ($completed requests)"
sleep 0.3  # the last closes reach the tracer
rs_trace_stop
c=$tmp/capture.json

rs_flows "$c" tcp "$port" server >"$tmp/server.jsonl"
rs_flows "$c" tcp "$port" client >"$tmp/client.jsonl"
rs_eq "server-side TCP flows on $port (redis: total_connections_received)" "$conns" \
  "$(wc -l <"$tmp/server.jsonl")"
rs_eq "client-side TCP flows to $port" "$conns" "$(wc -l <"$tmp/client.jsonl")"
bad=$(jq -c --argjson p "$server" 'select(.pid != $p or .comm != "redis-server"
    or .direction != "inbound" or .family != "ipv4" or .attribution != "accept"
    or .state != "CLOSED")' "$tmp/server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side flows not redis-server's ($server): $bad"
echo "ok: server side: redis-server $server, inbound, accept, closed"
bad=$(jq -c --argjson p "$bench_pid" 'select(.pid != $p or .comm != "redis-benchmark"
    or .direction != "outbound" or .family != "ipv4" or .attribution != "connect"
    or .state != "CLOSED")' "$tmp/client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side flows not redis-benchmark's ($bench_pid): $bad"
echo "ok: client side: redis-benchmark $bench_pid, outbound, connect, closed"
rs_expect_paired "$tmp/server.jsonl" "$tmp/client.jsonl"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|redis-benchmark -> p:HOST|redis-server tcp/$port both flows=$conns"
echo "ok: stitched: redis-benchmark -> redis-server, both ends joined, no one-sided edge"
echo "PASS real_redis ($conns connections)"
