#!/usr/bin/env bash
# NAT corrected before stitching (root): real iptables rules in two network namespaces made
# here, redis-server in one, redis-benchmark in the other, one netviz-trace --netns per
# namespace, the two captures stitched together. Three translations, each on its own address:
#   A. DNAT in the client's OUTPUT:        10.77.0.100:6379 -> 10.77.0.1:6379
#   B. DNAT in the server's PREROUTING:    10.77.1.100:6379 -> 10.77.0.1:6379
#   C. SNAT in the client's POSTROUTING:   10.77.0.2 -> 10.77.0.3, to 10.77.0.1:6380
# Checks: each client flow carries the translation (nat.remote for A, nat.local for C), each
# B server flow the address the client used (nat.local); the stitched graph has exactly one
# edge redis-benchmark -> redis-server per translation, joined on both ends, NATed with the
# address the client used, N flows each, and no (unknown process) or external edge, with
# --external too; a JSON-lines stream's connect lines carry nat too; a snapshot taken while
# connections through both DNATs are open gives the same edges. Then, the rules removed, a
# capture of direct connections has no nat field and its edge none either; a snapshot
# without privilege says once that it could not read conntrack.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init nat
rs_need redis-server redis-benchmark iptables ip
n=200
rs_netns_pair nat
inc ip addr add 10.77.0.2/24 dev nvnat-c$$
inc ip addr add 10.77.0.3/24 dev nvnat-c$$
ins ip addr add 10.77.0.1/24 dev nvnat-s$$
ins ip addr add 10.77.0.5/24 dev nvnat-s$$
for l in lo nvnat-c$$; do inc ip link set "$l" up; done
for l in lo nvnat-s$$; do ins ip link set "$l" up; done
inc ip route add 10.77.1.100/32 via 10.77.0.1
inc iptables -t nat -A OUTPUT -p tcp -d 10.77.0.100 --dport 6379 -j DNAT --to-destination 10.77.0.1:6379
ins iptables -t nat -A PREROUTING -p tcp -d 10.77.1.100 --dport 6379 -j DNAT --to-destination 10.77.0.1:6379
inc iptables -t nat -A POSTROUTING -p tcp -d 10.77.0.1 --dport 6380 -j SNAT --to-source 10.77.0.3

for p in 6379 6380; do
  rs_bg "redis$p" ip netns exec "$sns" redis-server --port "$p" --bind 10.77.0.1 10.77.0.5 --protected-mode no --save '' \
    --appendonly no --daemonize no --dir "$tmp"
done
for _ in $(seq 100); do
  [[ $(ins ss -Htln '( sport = :6379 or sport = :6380 )' | wc -l) == 4 ]] && break
  sleep 0.1
done
[[ $(ins ss -Htln '( sport = :6379 or sport = :6380 )' | wc -l) == 4 ]] ||
  rs_fail "redis-server does not listen on 6379 and 6380 of 10.77.0.1 and 10.77.0.5"

# Two tracers, one per namespace, as two hosts of a fleet would run.
stop_traces() {
  local pid
  sleep 0.3  # the last closes reach the tracers
  for pid in "${rs_trace_pids[@]}"; do kill -INT "$pid"; done
  for pid in "${rs_trace_pids[@]}"; do wait "$pid" || rs_fail "netviz-trace exited with $?"; done
  rs_trace_pids=()
}
bench() {  # HOST PORT: n requests, a new connection for each
  inc redis-benchmark -h "$1" -p "$2" -t ping_inline -n "$n" -c 4 -k 0 -q >>"$tmp/bench.log" 2>&1 ||
    rs_fail "redis-benchmark to $1:$2 failed"
}

rs_trace_bg client --netns "$cns"
rs_trace_bg server --netns "$sns"
# A JSON-lines stream of the client namespace as well: its connect lines carry nat already.
rs_trace_bg stream --netns "$cns" --format json
bench 10.77.0.100 6379
bench 10.77.1.100 6379
bench 10.77.0.1 6380

# Only a namespace with NAT rules is subscribed to (a subscriber makes the kernel build an
# event for every connection conntrack tracks): one where conntrack is on without NAT is not.
pns=nvnat-p-$$
ip netns add "$pns"
rs_on_exit "ip netns del $pns"
ip netns exec "$pns" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
"$NETVIZ_TRACE" --netns "$pns" --duration 3 -o "$tmp/plain.json" 2>"$tmp/trace-plain.log" &
plain_pid=$!
rs_pids+=($plain_pid)
for _ in $(seq 300); do grep -q "netviz-trace: tracing" "$tmp/trace-plain.log" && break; sleep 0.1; done
grep -q "netviz-trace: tracing" "$tmp/trace-plain.log" || rs_fail "netviz-trace --netns $pns did not start"
# NETLINK_NETFILTER (12) sockets bound to a group, in the namespace's own /proc/net/netlink.
subscribed() { ip netns exec "$1" awk '$2 == 12 && $4 != "00000000"' /proc/net/netlink | wc -l; }
rs_eq "conntrack subscriptions in a namespace without NAT rules" 0 "$(subscribed "$pns")"
n_sub=$(subscribed "$cns")  # the client's two tracers (capture and stream)
rs_eq "conntrack subscriptions in the client namespace, NAT rules" 2 "$n_sub"
wait "$plain_pid" || rs_fail "netviz-trace --netns $pns exited with $?"
stop_traces
c=$tmp/client.json s=$tmp/server.json
rs_check_lost "$c"
rs_check_lost "$s"
for f in "$c" "$s"; do
  notes=$(jq -c '[.stats.notes[] | select(test("conntrack"))]' "$f")
  rs_eq "conntrack notes in $(basename "$f")" "[]" "$notes"
done

rs_stream_nat "$tmp/stream.jsonl" 10.77.0.100 10.77.0.1 6379 "$n"

count() { jq "[.flows[] | select(.proto == \"tcp\") | select($2)] | length" "$1"; }
a=$(count "$c" '.remote == {"addr":"10.77.0.100","port":6379}')
((a >= n)) || rs_fail "A: $a client flows to 10.77.0.100:6379 for $n requests"
rs_eq "A: client flows with nat.remote 10.77.0.1:6379" "$a" \
  "$(count "$c" '.remote.addr == "10.77.0.100" and .nat.remote == {"addr":"10.77.0.1","port":6379}')"
b=$(count "$c" '.remote == {"addr":"10.77.1.100","port":6379}')
rs_eq "B: client flows to 10.77.1.100:6379 without nat (the client's conntrack saw none)" "$b" \
  "$(count "$c" '.remote.addr == "10.77.1.100" and .nat == null')"
rs_eq "B: server flows with nat.local 10.77.1.100:6379" "$b" \
  "$(count "$s" '.local.port == 6379 and .nat.local == {"addr":"10.77.1.100","port":6379}')"
rs_eq "A: server flows on 6379 without nat" "$a" "$(count "$s" '.local.port == 6379 and .nat == null')"
cc=$(count "$c" '.remote == {"addr":"10.77.0.1","port":6380}')
rs_eq "C: client flows with nat.local 10.77.0.3" "$cc" \
  "$(count "$c" '.remote.port == 6380 and .nat.local.addr == "10.77.0.3" and .nat.remote == null')"
rs_eq "C: server flows from 10.77.0.3" "$cc" "$(count "$s" '.local.port == 6380 and .remote.addr == "10.77.0.3"')"

edges() {  # the edges of the stitched graph, one line each
  "$NETVIZ_STITCH" --format json "$@" -o "$tmp/graph.json" "$c" "$s" 2>"$tmp/stitch.log" ||
    rs_fail "netviz-stitch failed"
  jq -r '.edges[] | "\(.from) -> \(.to) \(.proto)/\(.port) \(.joined) nat=\(.nat) flows=\(.flows)"' \
    "$tmp/graph.json" | sort
}
host=$(jq -r .host.name "$c")
want=$(printf '%s\n' \
  "p:$host/$cns|redis-benchmark -> p:$host/$sns|redis-server tcp/6379 both nat=10.77.0.100:6379 flows=$a" \
  "p:$host/$cns|redis-benchmark -> p:$host/$sns|redis-server tcp/6379 both nat=10.77.1.100:6379 flows=$b" \
  "p:$host/$cns|redis-benchmark -> p:$host/$sns|redis-server tcp/6380 both nat=10.77.0.1:6380 flows=$cc" | sort)
for opt in "" --external; do
  got=$(edges $opt)
  [[ $got == "$want" ]] || rs_fail "stitched edges ${opt:-(default)}:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
  echo "ok: stitched ${opt:-(default)}: one NATed edge per translation, nothing else"
done
dot=$("$NETVIZ_STITCH" --format dot "$c" "$s")
grep -q 'NAT via 10.77.0.100:6379' <<<"$dot" || rs_fail "DOT has no NAT label: $dot"
echo "ok: DOT labels the NATed edges"

blpop_pids=()
# A snapshot of the whole host while one connection through each DNAT is open (blocked in
# BLPOP): conntrack dumped once per namespace, the same single edges.
for vip in 10.77.0.100 10.77.1.100; do
  rs_bg "blpop-$vip" ip netns exec "$cns" redis-cli -h "$vip" -p 6379 blpop "nvnat-$vip" 60
  blpop_pids+=("$rs_last_pid")
done
for _ in $(seq 100); do
  [[ $(inc ss -Htn state established '( dport = :6379 )' | wc -l) == 2 ]] && break
  sleep 0.1
done
"$NETVIZ_TRACE" --snapshot -o "$tmp/snap.json" 2>"$tmp/snapshot.log" || rs_fail "snapshot failed"
"$NETVIZ_STITCH" --format json -o "$tmp/snap-graph.json" "$tmp/snap.json" 2>>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch of the snapshot failed"
got=$(jq -r '.edges[] | select(.from | endswith("|redis-cli"))
  | "\(.from) -> \(.to) \(.proto)/\(.port) \(.joined) nat=\(.nat) flows=\(.flows)"' \
  "$tmp/snap-graph.json" | sort)
want=$(printf '%s\n' \
  "p:$host/$cns|redis-cli -> p:$host/$sns|redis-server tcp/6379 both nat=10.77.0.100:6379 flows=1" \
  "p:$host/$cns|redis-cli -> p:$host/$sns|redis-server tcp/6379 both nat=10.77.1.100:6379 flows=1")
[[ $got == "$want" ]] || rs_fail "snapshot edges:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
echo "ok: snapshot: one NATed edge per open connection"
# --no-nat: the same snapshot without conntrack: no flow carries nat.
"$NETVIZ_TRACE" --snapshot --no-nat -o "$tmp/snap-nonat.json" 2>>"$tmp/snapshot.log" ||
  rs_fail "snapshot --no-nat failed"
[[ $(jq '[.flows[] | select(.nat)] | length' "$tmp/snap-nonat.json") == 0 ]] ||
  rs_fail "--no-nat: flows carry nat"
[[ $(jq '[.flows[] | select(.comm == "redis-cli")] | length' "$tmp/snap-nonat.json") == 2 ]] ||
  rs_fail "--no-nat: the two open redis-cli connections are not in the snapshot"
echo "ok: snapshot --no-nat: the same connections, no nat"
kill "${blpop_pids[@]}"
wait "${blpop_pids[@]}" 2>/dev/null || true

# No NAT rules: the flows carry no nat, nor the edge. To an address of its own: conntrack
# keeps the entries above (TIME_WAIT), and a new connection whose reply tuple would clash with
# one of them is given another source port, a real translation.
inc iptables -t nat -F
ins iptables -t nat -F
rs_trace_bg client2 --netns "$cns"
rs_trace_bg server2 --netns "$sns"
bench 10.77.0.5 6379
stop_traces
c=$tmp/client2.json s=$tmp/server2.json
rs_eq "flows with nat, no rules" 0 "$(jq -s '[.[].flows[] | select(has("nat"))] | length' "$c" "$s")"
d=$(count "$c" '.remote == {"addr":"10.77.0.5","port":6379}')
rs_eq "edges, no rules" "p:$host/$cns|redis-benchmark -> p:$host/$sns|redis-server tcp/6379 both nat=null flows=$d" "$(edges)"

# Without the privilege to read conntrack: said once in stats.notes, flows as they are.
mkdir -m 777 "$tmp/nobody"
runuser -u nobody -- "$NETVIZ_TRACE" --snapshot -o "$tmp/nobody/snap.json" 2>"$tmp/nobody.log" ||
  rs_fail "unprivileged snapshot failed"
rs_eq "conntrack notes without privilege" 1 \
  "$(jq '[.stats.notes[] | select(test("^conntrack unreadable \\(Operation not permitted\\)"))] | length' \
     "$tmp/nobody/snap.json")"
echo "PASS nat_redis ($a + $b + $cc NATed connections, $d direct)"
