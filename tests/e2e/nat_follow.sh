#!/usr/bin/env bash
# NAT rules added after the tracer started, in namespaces created after it (root): a
# host-wide netviz-trace -o starts first; then two network namespaces are made here, with
# redis-server in one and no NAT rule anywhere; one netviz-trace --netns per namespace (and a
# JSON-lines stream of the client's) starts; nothing subscribes to conntrack. Then two real
# iptables DNAT rules are added:
#   A. DNAT in the client's OUTPUT:        10.78.0.100:6379 -> 10.78.0.1:6379
#   B. DNAT in the server's PREROUTING:    10.78.1.100:6379 -> 10.78.0.1:6379
# and, once the tracers follow the namespaces (their periodic re-check), redis-benchmark
# makes N connections through each. Checks: every client flow of A carries nat.remote, every
# server flow of B nat.local, every stream connect line of A nat.remote; the two per-namespace
# captures stitch into exactly one joined NATed edge redis-benchmark -> redis-server per rule,
# N flows each, and the host-wide capture alone into the same two edges; each tracer says
# once in stats.notes that the namespace was followed after the start, and counts it. The
# helper that re-checks keeps only its three capabilities and its socket, and goes with its
# tracer, on SIGINT and on kill -9.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init nat_follow
rs_need redis-server redis-benchmark iptables ip
n=200
helpers() {  # the re-check helpers of the running tracers
  local pid
  for pid in "${rs_trace_pids[@]}"; do pgrep -P "$pid" -x netviz-natwatch || true; done
}

# First the host-wide tracer: the namespaces below are created after its start.
rs_trace_bg host

rs_netns_pair nf
# A process in the client namespace, as a container has: the host-wide tracer finds a
# namespace made after its start by its processes (its private mount namespace may not see
# later `ip netns add` mounts).
rs_bg holder ip netns exec "$cns" sleep 600
inc ip addr add 10.78.0.2/24 dev nvnf-c$$
ins ip addr add 10.78.0.1/24 dev nvnf-s$$
for l in lo nvnf-c$$; do inc ip link set "$l" up; done
for l in lo nvnf-s$$; do ins ip link set "$l" up; done
inc ip route add 10.78.1.100/32 via 10.78.0.1
rs_bg redis ip netns exec "$sns" redis-server --port 6379 --bind 10.78.0.1 --protected-mode no \
  --save '' --appendonly no --daemonize no --dir "$tmp"
for _ in $(seq 100); do
  [[ -n $(ins ss -Htln '( sport = :6379 )') ]] && break
  sleep 0.1
done
[[ -n $(ins ss -Htln '( sport = :6379 )') ]] || rs_fail "redis-server does not listen on 10.78.0.1:6379"

rs_trace_bg client --netns "$cns"
rs_trace_bg server --netns "$sns"
rs_trace_bg stream --netns "$cns" --format json

# NETLINK_NETFILTER (12) sockets bound to a group, in the namespace's own /proc/net/netlink.
subscribed() { ip netns exec "$1" awk '$2 == 12 && $4 != "00000000"' /proc/net/netlink | wc -l; }
sleep 1.5  # a re-check or more of every tracer: still no NAT rule, so still no subscription
rs_eq "conntrack subscriptions in the client namespace before any NAT rule" 0 "$(subscribed "$cns")"
rs_eq "conntrack subscriptions in the server namespace before any NAT rule" 0 "$(subscribed "$sns")"

inc iptables -t nat -A OUTPUT -p tcp -d 10.78.0.100 --dport 6379 -j DNAT --to-destination 10.78.0.1:6379
ins iptables -t nat -A PREROUTING -p tcp -d 10.78.1.100 --dport 6379 -j DNAT --to-destination 10.78.0.1:6379
added=$(date +%s%N)
# Followed within a re-check or two: the host-wide tracer and the client's capture and stream
# in the client namespace, the host-wide one and the server's capture in the server's.
until (($(subscribed "$cns") == 3 && $(subscribed "$sns") == 2)); do
  (($(date +%s%N) - added > 5000000000)) && break
  sleep 0.1
done
sub_c=$(subscribed "$cns") sub_s=$(subscribed "$sns")
echo "subscribed $(( ($(date +%s%N) - added) / 1000000 )) ms after the rules: $sub_c in the client namespace, $sub_s in the server's"

bench() {  # HOST: n requests, a new connection for each
  inc redis-benchmark -h "$1" -p 6379 -t ping_inline -n "$n" -c 4 -k 0 -q >>"$tmp/bench.log" 2>&1 ||
    rs_fail "redis-benchmark to $1 failed"
}
bench 10.78.0.100
bench 10.78.1.100

helper_pids=$(helpers)
sleep 0.3  # the last closes reach the tracers
for pid in "${rs_trace_pids[@]}"; do kill -INT "$pid"; done
for pid in "${rs_trace_pids[@]}"; do wait "$pid" || rs_fail "netviz-trace exited with $?"; done
rs_trace_pids=()
for pid in $helper_pids; do
  kill -0 "$pid" 2>/dev/null && rs_fail "helper $pid outlived its tracer"
done

c=$tmp/client.json s=$tmp/server.json h=$tmp/host.json
rs_check_lost "$c"
rs_check_lost "$s"
count() { jq "[.flows[] | select(.proto == \"tcp\") | select($2)] | length" "$1"; }
a=$(count "$c" '.remote == {"addr":"10.78.0.100","port":6379}')
((a >= n)) || rs_fail "A: $a client flows to 10.78.0.100:6379 for $n requests"
rs_eq "A: client flows with nat.remote 10.78.0.1:6379" "$a" \
  "$(count "$c" '.remote.addr == "10.78.0.100" and .nat.remote == {"addr":"10.78.0.1","port":6379}')"
b=$(count "$c" '.remote == {"addr":"10.78.1.100","port":6379}')
((b >= n)) || rs_fail "B: $b client flows to 10.78.1.100:6379 for $n requests"
rs_eq "B: server flows with nat.local 10.78.1.100:6379" "$b" \
  "$(count "$s" '.local.port == 6379 and .nat.local == {"addr":"10.78.1.100","port":6379}')"
rs_stream_nat "$tmp/stream.jsonl" 10.78.0.100 10.78.0.1 6379 "$n"

# The edges between the two namespaces' redis processes, by command (the host-wide tracer
# names namespaces it met after its start by inode only).
edges() {  # CAPTURE...
  "$NETVIZ_STITCH" --format json -o "$tmp/graph.json" "$@" 2>"$tmp/stitch.log" ||
    rs_fail "netviz-stitch failed"
  jq -r '.edges[] | select(.port == 6379 and (.nat // "" | startswith("10.78.")))
    | "\(.from | sub(".*[|]"; "")) -> \(.to | sub(".*[|]"; "")) \(.proto)/\(.port) \(.joined) nat=\(.nat) flows=\(.flows)"' \
    "$tmp/graph.json" | sort
}
want=$(printf '%s\n' \
  "redis-benchmark -> redis-server tcp/6379 both nat=10.78.0.100:6379 flows=$a" \
  "redis-benchmark -> redis-server tcp/6379 both nat=10.78.1.100:6379 flows=$b" | sort)
got=$(edges "$c" "$s")
[[ $got == "$want" ]] || rs_fail "stitched edges of the two namespaces' captures:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
echo "ok: the namespaces' captures stitch into one joined NATed edge per rule"
got=$(edges "$h")
[[ $got == "$want" ]] || rs_fail "stitched edges of the host-wide capture:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
echo "ok: the host-wide capture stitches into the same edges"

ino_c=$(stat -c %i "/run/netns/$cns") ino_s=$(stat -c %i "/run/netns/$sns")
later() {  # CAPTURE INODE WORDS: its notes on that namespace saying WORDS
  jq --arg i "$2" --arg w "$3" \
    '[.stats.notes[] | select(test("^netns " + $i + "[: ]") and contains($w) and contains("followed from then on"))] | length' "$1"
}
rs_eq "client capture: note of NAT rules appearing" 1 "$(later "$c" "$ino_c" "NAT rules appeared at")"
rs_eq "client capture: nat_netns_followed_later" 1 "$(jq .stats.nat_netns_followed_later "$c")"
rs_eq "server capture: note of NAT rules appearing" 1 "$(later "$s" "$ino_s" "NAT rules appeared at")"
rs_eq "host-wide capture: note on the client namespace" 1 "$(later "$h" "$ino_c" "created after the start")"
rs_eq "host-wide capture: note on the server namespace" 1 "$(later "$h" "$ino_s" "created after the start")"
rs_eq "subscriptions in the client namespace once the rules were there" 3 "$sub_c"
rs_eq "subscriptions in the server namespace once the rules were there" 2 "$sub_s"
rs_eq "re-check helpers while tracing (one per tracer), gone with them" 4 "$(wc -w <<<"$helper_pids")"

# kill -9: the helper goes with its tracer (PR_SET_PDEATHSIG).
rs_trace_bg killed --netns "$sns"
helper_pids=$(helpers)
rs_eq "helper of the tracer to be killed" 1 "$(wc -w <<<"$helper_pids")"
# What the helper keeps: CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), no new
# privileges, and no fd but /dev/null and its socket to the tracer (not the BPF links).
status=/proc/$helper_pids/status
rs_eq "helper CapEff" 0000000000281000 "$(awk '$1 == "CapEff:" {print $2}' "$status")"
rs_eq "helper CapPrm" 0000000000281000 "$(awk '$1 == "CapPrm:" {print $2}' "$status")"
rs_eq "helper NoNewPrivs" 1 "$(awk '$1 == "NoNewPrivs:" {print $2}' "$status")"
rs_eq "helper fds" "0 1 2 3" "$(ls "/proc/$helper_pids/fd" | sort -n | xargs)"
rs_eq "helper fd 3" socket "$(readlink "/proc/$helper_pids/fd/3" | cut -d: -f1)"
kill -KILL "${rs_trace_pids[0]}"
wait "${rs_trace_pids[0]}" 2>/dev/null || true
rs_trace_pids=()
for _ in $(seq 20); do kill -0 "$helper_pids" 2>/dev/null || break; sleep 0.1; done
kill -0 "$helper_pids" 2>/dev/null && rs_fail "helper $helper_pids outlived its tracer's kill -9"
echo "ok: the helper ended with its tracer's kill -9"
echo "PASS nat_follow ($a + $b connections through DNAT rules added after the start)"
