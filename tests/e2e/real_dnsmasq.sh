#!/usr/bin/env bash
# dnsmasq (Debian's dnsmasq-base), a real UDP server, end to end (root). dnsmasq starts BEFORE
# the trace (its UDP socket is older than the tracer) and answers test.example itself; N dig
# processes (bind9-dnsutils) query it once each. dnsmasq's own log (--log-queries) records
# every query with the pid that served it. Checks:
#   - every dig got the configured answer; the dnsmasq log has N queries, all by dnsmasq's pid;
#   - netviz has N UDP flows on the server's port, one per query: request and reply are ONE
#     flow (2 datagrams) on each end: server side owned by dnsmasq (its pid, comm dnsmasq,
#     inbound), never pid 0; client side by the dig that asked (its pid, comm dig as ps shows
#     it, not its thread's isc-net-0000, outbound), paired by client port; the first query's
#     server end says attribution scan (the owner the scan found), every later one udp_recv;
#   - stats: 0 lost; stitching gives one edge dig -> dnsmasq udp joined on both ends, no
#     one-sided edge.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init dnsmasq
rs_need dnsmasq dig
queries=20

port=$(rs_port)
rs_bg dnsmasq dnsmasq -k --port "$port" --listen-address 127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --address=/test.example/10.0.0.1 --pid-file="$tmp/dnsmasq.pid" \
  --log-queries --log-facility="$tmp/queries.log" --conf-file=/dev/null
server=$rs_last_pid
rs_wait_udp "$port" || rs_fail "dnsmasq does not listen on udp $port"

rs_trace_start "$tmp/capture.json"
digs=()
for i in $(seq "$queries"); do
  dig -p "$port" @127.0.0.1 +short +tries=1 +time=3 "q$i.test.example" A >"$tmp/dig$i.txt" 2>&1 &
  digs+=($!)
  wait "${digs[-1]}" || rs_fail "dig $i failed: $(cat "$tmp/dig$i.txt")"
  [[ $(cat "$tmp/dig$i.txt") == 10.0.0.1 ]] || rs_fail "dig $i: answer $(cat "$tmp/dig$i.txt")"
done
echo "ok: $queries digs answered 10.0.0.1"
sleep 0.3
rs_trace_stop
c=$tmp/capture.json

logged=$(grep -c "dnsmasq\[$server\]: query\[A\] q[0-9]*\.test\.example from 127\.0\.0\.1" "$tmp/queries.log" || true)
rs_eq "queries in dnsmasq's log, served by its pid $server" "$queries" "$logged"

rs_flows "$c" udp "$port" server >"$tmp/server.jsonl"
rs_flows "$c" udp "$port" client >"$tmp/client.jsonl"
rs_eq "server-side UDP flows on $port (one per query)" "$queries" "$(wc -l <"$tmp/server.jsonl")"
rs_eq "client-side UDP flows to $port (one per dig)" "$queries" "$(wc -l <"$tmp/client.jsonl")"
bad=$(jq -c --argjson p "$server" 'select(.pid != $p or .comm != "dnsmasq"
    or .direction != "inbound" or .family != "ipv4" or .packets != 2)' "$tmp/server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side flows not dnsmasq's ($server), inbound, 2 datagrams: $bad"
echo "ok: server side: dnsmasq $server, inbound, request and reply one flow"
# How the owner was learnt: the first query reaches a socket no process has used since the
# scan (`scan`); dnsmasq's recvmsg of it shows the owner to the kernel, so every later query
# (each dig waits for its answer) says `udp_recv`.
how=$(jq -s -r 'sort_by(.first_seen) | map(.attribution) | join(" ")' "$tmp/server.jsonl")
want="scan$(printf ' udp_recv%.0s' $(seq $((queries - 1))))"
[[ $how == "$want" ]] || rs_fail "server-side attribution in query order: want '$want', got '$how'"
echo "ok: server side: the first query's owner from the scan, the later ones from udp_recv"
want_pids=$(printf '%s\n' "${digs[@]}" | sort -n)
got_pids=$(jq -r .pid "$tmp/client.jsonl" | sort -n)
[[ $want_pids == "$got_pids" ]] ||
  rs_fail "client-side owners are not the digs: want $(echo $want_pids), got $(echo $got_pids)"
bad=$(jq -c 'select(.comm != "dig" or .direction != "outbound" or .family != "ipv4"
    or .packets != 2)' "$tmp/client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side flows not dig's, outbound, 2 datagrams: $bad"
echo "ok: client side: each dig's own pid, comm dig, outbound, request and reply one flow"
rs_expect_paired "$tmp/server.jsonl" "$tmp/client.jsonl"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|dig -> p:HOST|dnsmasq udp/$port both flows=$queries"
echo "ok: stitched: dig -> dnsmasq, both ends joined, no one-sided edge"
echo "PASS real_dnsmasq ($queries queries)"
