#!/usr/bin/env bash
# Ingress marks, end to end (root): a ping to loopback holds a raw ICMP socket while
# netviz-trace --snapshot scans the host. Checks: the capture lists the raw socket with the
# ping as owner, and netviz-stitch marks the ping's node with "raw icmp" in the process,
# pid and host views, in JSON and DOT, though the ping has no TCP or UDP flow.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init ingress
rs_need ping

# Bounded: 300 pings 0.1 s apart at most; stopped at exit.
rs_bg ping ping -n -i 0.1 -c 300 127.0.0.1
ping_pid=$rs_last_pid
for _ in $(seq 50); do
  grep -q "bytes from" "$tmp/ping.log" && break
  sleep 0.1
done
grep -q "bytes from" "$tmp/ping.log" || rs_fail "ping got no reply"

"$NETVIZ_TRACE" --snapshot -o "$tmp/snap.json" 2>"$tmp/snapshot.log" || rs_fail "snapshot failed"
c=$tmp/snap.json
# iputils ping holds an IPv4 raw ICMP socket (and an ICMPv6 one it does not use here).
rs_eq "raw ICMP sockets held by the ping" 1 "$(jq --argjson p "$ping_pid" '[.sockets[]
  | select(.proto == "raw" and .family == "ipv4" and .local.port == 1
           and any(.owners[]; .pid == $p))] | length' "$c")"
host=$(jq -r .host.name "$c")

for view in process pid host; do
  "$NETVIZ_STITCH" --view "$view" --format json -o "$tmp/$view.json" "$c" 2>"$tmp/stitch.log" ||
    rs_fail "netviz-stitch --view $view failed"
done
want=$(jq -c --argjson p "$ping_pid" '[.sockets[] | select(.proto == "raw" and any(.owners[]; .pid == $p))
  | if .family == "ipv6" then "raw6 " else "raw " end + ({"1": "icmp", "58": "icmpv6"}[.local.port | tostring] // "proto \(.local.port)")]
  | unique' "$c")
echo "the ping's raw sockets: $want"
jq -e 'index("raw icmp")' <<<"$want" >/dev/null || rs_fail "no raw icmp in $want"
rs_eq "process view: the ping's marks" "$want" \
  "$(jq -c --arg id "p:$host|ping" '.nodes[] | select(.id == $id) | .ingress' "$tmp/process.json")"
rs_eq "pid view: the ping's marks" "$want" \
  "$(jq -c --arg id "p:$host|ping|$ping_pid" '.nodes[] | select(.id == $id) | .ingress' "$tmp/pid.json")"
jq -e --arg id "h:$host" '.nodes[] | select(.id == $id) | .ingress | index("raw icmp")' \
  "$tmp/host.json" >/dev/null || rs_fail "host view: no raw icmp mark on h:$host"
"$NETVIZ_STITCH" -o "$tmp/graph.dot" "$c" 2>"$tmp/stitch.log" || rs_fail "netviz-stitch (DOT) failed"
grep -q 'ingress raw icmp' "$tmp/graph.dot" || rs_fail "DOT has no ingress mark"
echo "PASS ingress_ping"
