#!/usr/bin/env bash
# socat, end to end (root): `socat TCP-LISTEN:P,fork EXEC:cat` accepts in its parent and forks
# a child per connection that serves it (a hand-off after accept, like a prefork server that
# forks late); N socat clients each send a line and read the echo. socat's own logs (-d -d)
# name both: the parent logs each accepted client port and the child it forked off, each
# client logs the local port it connected from. Checks:
#   - every client got its line back; netviz's server-side and client-side flows on the port
#     == the connections the parent's log accepted == N;
#   - each server-side flow is owned by the child the log forked off for its client port
#     (comm socat, handoff, accepted_by the listening parent), never the parent;
#   - each client-side flow by the socat client that logged its port (connect, outbound);
#   - stats: 0 lost; stitching gives one edge socat -> socat joined on both ends.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init socat
rs_need socat
clients=15

port=$(rs_port)
rs_trace_start "$tmp/capture.json"
rs_bg socat-server socat -d -d -lf "$tmp/server.log" \
  "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat
server=$rs_last_pid
rs_wait_tcp "$port" || rs_fail "socat does not listen on $port"
: >"$tmp/client-ports.txt"
for i in $(seq "$clients"); do
  socat -d -d -lf "$tmp/client$i.log" - "TCP:127.0.0.1:$port,shut-down" <<<"line $i" \
    >"$tmp/client$i.out" &
  pid=$!
  wait "$pid" || rs_fail "socat client $i failed"
  [[ $(cat "$tmp/client$i.out") == "line $i" ]] || rs_fail "client $i got '$(cat "$tmp/client$i.out")'"
  cport=$(sed -n 's/.*successfully connected from local address AF=2 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
    "$tmp/client$i.log")
  [[ -n $cport ]] || rs_fail "client $i did not log its local port"
  echo "$cport $pid" >>"$tmp/client-ports.txt"
done
echo "ok: $clients socat clients got their lines echoed"
sleep 0.3
rs_trace_stop
c=$tmp/capture.json

# The parent's record: accepted client port, then the child it forked off for it.
awk -v p="socat[$server]" '$3 == p && /accepting connection from/ {
    split($(NF - 3), a, ":"); port = a[2] }
  $3 == p && /forked off child process/ { print port, $NF }' "$tmp/server.log" |
  sort -n >"$tmp/log-ports.txt"
sort -n -o "$tmp/client-ports.txt" "$tmp/client-ports.txt"
rs_eq "connections the socat parent accepted and forked off" "$clients" "$(wc -l <"$tmp/log-ports.txt")"

rs_split_tcp "$c" "$port" "$clients"
rs_expect_owners "$tmp/log-ports.txt" "socat's log"
echo "ok: every server-side flow is owned by the child socat's log forked off for it"
bad=$(jq -c --argjson s "$server" 'select(.comm != "socat" or .pid == $s or .direction != "inbound"
    or .attribution != "handoff" or .accepted_by.pid != $s or .family != "ipv4")' \
  "$tmp/server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side flows not handed from the parent $server to a child: $bad"
echo "ok: server side: comm socat, handoff, accepted_by the parent $server"
jq -r '"\(.local.port) \(.pid)"' "$tmp/client.jsonl" | sort -n >"$tmp/netviz-client.txt"
diff "$tmp/client-ports.txt" "$tmp/netviz-client.txt" >"$tmp/clients.diff" ||
  rs_fail "client-side owners differ from the clients' logs (< logs, > netviz): $(cat "$tmp/clients.diff")"
bad=$(jq -c 'select(.comm != "socat" or .direction != "outbound" or .attribution != "connect"
    or .family != "ipv4")' "$tmp/client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side flows: $bad"
echo "ok: client side: each socat client's pid and port, connect, outbound"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|socat -> p:HOST|socat tcp/$port both flows=$clients"
echo "ok: stitched: socat -> socat, both ends joined, no one-sided edge"
echo "PASS real_socat ($clients connections, children as socat's log says)"
