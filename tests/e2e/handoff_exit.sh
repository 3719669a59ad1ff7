#!/usr/bin/env bash
# A connection handed on after accept() whose serving process exits without closing it (root):
# a fork-per-connection server (tests/e2e/lib/handoff_server.py) accepts in the parent, the
# child answers and exits, the kernel closes the socket as the child goes. Checks, per
# connection: the server end is the child's (its pid, comm nvt_hand_kid, attribution handoff,
# accepted_by the parent), the client end is the client's, and nothing is lost.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init handoff_exit
py=/usr/bin/python3
rs_need "$py"
n=10

rs_trace_start "$tmp/capture.json"
"$py" "$(dirname "$0")/lib/handoff_server.py" "$n" >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
rs_pids+=("$server")
for _ in $(seq 100); do grep -q '^port ' "$tmp/server.out" && break; sleep 0.1; done
port=$(awk '/^port / { print $2 }' "$tmp/server.out")
[[ -n $port ]] || rs_fail "the server did not start: $(cat "$tmp/server.err")"
for i in $(seq "$n"); do
  "$py" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"ping\n")
assert s.recv(64) == b"pong\n"
s.close()' "$port" || rs_fail "client $i failed"
done
wait "$server" || rs_fail "the server failed: $(cat "$tmp/server.err")"
sleep 0.5  # the last closes reach the tracer
rs_trace_stop
c=$tmp/capture.json

rs_eq "connections served" "$n" "$(grep -c '^served ' "$tmp/server.out")"
rs_flows "$c" tcp "$port" server >"$tmp/server.jsonl"
rs_eq "server-side flows on $port" "$n" "$(wc -l <"$tmp/server.jsonl")"
while read -r _ kid cport; do
  f=$(jq -c --argjson p "$cport" 'select(.remote.port == $p)' "$tmp/server.jsonl")
  [[ -n $f ]] || rs_fail "no server-side flow for client port $cport"
  jq -e --argjson kid "$kid" --argjson par "$server" '.pid == $kid and .comm == "nvt_hand_kid"
      and .attribution == "handoff" and .accepted_by.pid == $par
      and .accepted_by.comm == "nvt_hand_par" and .state == "CLOSED"' <<<"$f" >/dev/null ||
    rs_fail "client port $cport: want the exited child $kid (handoff from $server): $f"
done < <(grep '^served ' "$tmp/server.out")
echo "ok: every server end on its child (pid, comm nvt_hand_kid, handoff, accepted_by the parent)"
rs_check_lost "$c"
echo "PASS handoff_exit ($n connections)"
