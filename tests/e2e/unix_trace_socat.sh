#!/usr/bin/env bash
# Short-lived unix seqpacket connections traced (root): socat listening on SOCK_SEQPACKET
# (type=5) on a path in a temp dir, forking per connection, and on an abstract name; socat
# clients that each send a line and exit while netviz-trace runs, and one held open across
# the end. Checks:
#   - one unix flow per client connection, from the client socat's pid to the path, peer the
#     socat child that served it (the listening socat accepts, forks a child per connection
#     and closes its copy; socat's own log names each child), never the listener, CLOSED
#     with a duration; the one on the abstract name has remote "@NAME";
#   - each short connection's bytes: what the client wrote and what cat echoed to it;
#   - the connection still open at the end: its client is the socat ss -xp shows on the
#     client end of that seqpacket pair, and the flow has no duration;
#   - stitched by pid: one edge from each client to the child that served it, labelled with
#     the path, and no edge from a process to itself.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init unix_socat
rs_need socat ss
short=8
path=$tmp/seq.sock
name=nvtest-$$

rs_bg server socat -d -d -lf "$tmp/server.log" "UNIX-LISTEN:$path,type=5,fork" EXEC:cat
server=$rs_last_pid
rs_bg abstract socat -d -d -lf "$tmp/abstract.log" "ABSTRACT-LISTEN:$name,fork" EXEC:cat
abstract=$rs_last_pid
for _ in $(seq 50); do [[ -S $path ]] && break; sleep 0.1; done
[[ -S $path ]] || rs_fail "socat does not listen on $path"

rs_trace_start "$tmp/capture.json"
clients=()
for i in $(seq "$short"); do
  # -t 5: after its line the client waits for cat's echo, so both ends' writes are complete.
  printf 'line %0*d\n' "$i" "$i" >"$tmp/in.$i"
  socat -t 5 - "UNIX-CONNECT:$path,type=5" <"$tmp/in.$i" >"$tmp/out.$i" &
  clients+=("$!")
  wait "$!" || rs_fail "client $i failed"
done
echo hi | socat - "ABSTRACT-CONNECT:$name" >/dev/null &
abstract_client=$!
wait "$abstract_client" || rs_fail "abstract client failed"
# Reads the socket only (-u): nothing comes back, so it stays connected until the test kills it.
rs_bg held socat -u "UNIX-CONNECT:$path,type=5" -
held=$rs_last_pid
for _ in $(seq 50); do
  ss -xpH state connected | grep -qF " $path " && break
  sleep 0.1
done
# ss: the accepted end carries the path; its peer's line names the client.
srv_line=$(ss -xpH state connected | grep -F " $path " | head -1)
peer_ino=$(awk '{print $(NF-1)}' <<<"$srv_line")
ss_client=$(ss -xpH state connected | awk -v i="$peer_ino" '$6 == i' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[[ -n $ss_client ]] || rs_fail "ss -xp shows no owner for the held client end"
rs_eq "ss -xp: holder of the held client end" "$held" "$ss_client"
rs_trace_stop
c=$tmp/capture.json

jq -c --arg p "$path" '.flows[] | select(.proto == "unix" and .remote.addr == $p)' "$c" >"$tmp/unix.jsonl"
rs_eq "unix flows to $path (short + held)" $((short + 1)) "$(wc -l <"$tmp/unix.jsonl")"
rs_eq "clients of the short connections" "$(printf '%s\n' "${clients[@]}" | sort -n | paste -sd,)" \
  "$(jq -r 'select(.duration_ms != null) | .pid' "$tmp/unix.jsonl" | sort -n | paste -sd,)"
rs_eq "client of the connection open at the end (ss -xp)" "$ss_client" \
  "$(jq -r 'select(.duration_ms == null) | .pid' "$tmp/unix.jsonl")"
# socat's record: the child the listener (not a child, which forks cat) forked off for each
# connection it accepted.
children() {
  sed -n "s/.* socat\[$2\] [A-Z] forked off child process \([0-9]*\)\$/\1/p" "$1" | sort -n | paste -sd,
}
rs_eq "peers: the children socat's log forked off" "$(children "$tmp/server.log" "$server")" \
  "$(jq -r .peer.pid "$tmp/unix.jsonl" | sort -n | paste -sd,)"
bad=$(jq -c --argjson s "$server" 'select(.comm != "socat" or .peer.pid == $s
    or .peer.comm != "socat" or .direction != "outbound" or .attribution != "connect")' \
  "$tmp/unix.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "unix flows not socat -> a socat child of $server: $bad"
rs_eq "short connections CLOSED with a duration" "$short" \
  "$(jq -c 'select(.state == "CLOSED" and .duration_ms > 0)' "$tmp/unix.jsonl" | wc -l)"
# Bytes: what each client wrote (its input) and what the server wrote back (its output).
for i in $(seq "$short"); do
  rs_eq "client $i: bytes sent, received" "$(wc -c <"$tmp/in.$i") $(wc -c <"$tmp/out.$i")" \
    "$(jq -r --argjson p "${clients[$((i - 1))]}" 'select(.pid == $p) | "\(.bytes_sent) \(.bytes_received)"' "$tmp/unix.jsonl")"
done
rs_eq "flow to the abstract name @$name (its server: the child forked off)" \
  "$abstract_client $(children "$tmp/abstract.log" "$abstract")" \
  "$(jq -r --arg n "@$name" '.flows[] | select(.proto == "unix" and .remote.addr == $n)
     | "\(.pid) \(.peer.pid)"' "$c")"
rs_check_lost "$c"

"$NETVIZ_STITCH" --view pid --format json -o "$tmp/graph.json" "$c" 2>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch failed"
host=$(jq -r .host.name "$c")
want=$(jq -r --arg h "$host" '"p:\($h)|socat|\(.pid) -> p:\($h)|socat|\(.peer.pid) unix both flows=1"' \
  "$tmp/unix.jsonl" | sort)
got=$(jq -r --arg p "$path" '.edges[] | select(.path == $p)
  | "\(.from) -> \(.to) \(.proto) \(.joined) flows=\(.flows)"' "$tmp/graph.json" | sort)
rs_eq "stitched pid edges labelled $path" "$want" "$got"
loops=$(jq -c '.edges[] | select(.proto == "unix" and .from == .to)' "$tmp/graph.json" | head -1)
[[ -z $loops ]] || rs_fail "a unix edge from a process to itself: $loops"
echo "PASS unix_trace_socat ($short short seqpacket connections, one held, one abstract)"
