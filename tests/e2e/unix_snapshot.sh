#!/usr/bin/env bash
# Unix socket edges in a snapshot (root): `socat UNIX-LISTEN` on a path in a temp dir, a socat
# client connected to it and held open; `netviz-trace --snapshot` must report one unix flow
# from the client's pid to the path with the server's pid as peer, the same two pids `ss -xp`
# shows on the two ends; a socketpair inside one process is no flow.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init unix
rs_need socat
path=$tmp/srv.sock

rs_bg server socat "UNIX-LISTEN:$path" EXEC:cat
server=$rs_last_pid
for _ in $(seq 50); do [[ -S $path ]] && break; sleep 0.1; done
[[ -S $path ]] || rs_fail "socat does not listen on $path"
# The client's stdin stays open while sleep runs: the connection is held.
rs_bg client bash -c "sleep 60 | exec socat - UNIX-CONNECT:$path"
for _ in $(seq 50); do
  ss -xpH state connected | grep -qF "$path" && break
  sleep 0.1
done
# ss: the accepted end carries the path; its peer's line names the client.
srv_line=$(ss -xpH state connected | grep -F " $path " | head -1)
[[ -n $srv_line ]] || rs_fail "no connected socket on $path in ss -xp"
ss_server=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$srv_line")
peer_ino=$(awk '{print $(NF-1)}' <<<"$srv_line")
ss_client=$(ss -xpH state connected | awk -v i="$peer_ino" '$6 == i' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
rs_eq "server pid in ss -xp" "$server" "$ss_server"
[[ -n $ss_client ]] || rs_fail "ss -xp shows no owner for the client end (inode $peer_ino)"

"$NETVIZ_TRACE" --snapshot --format json -o "$tmp/snap.json" 2>"$tmp/snap.log" ||
  rs_fail "netviz-trace --snapshot failed"
jq -c --arg p "$path" '.flows[] | select(.proto == "unix" and .remote.addr == $p)' \
  "$tmp/snap.json" >"$tmp/unix.jsonl"
rs_eq "unix flows to $path" 1 "$(wc -l <"$tmp/unix.jsonl")"
rs_eq "client pid" "$ss_client" "$(jq -r .pid "$tmp/unix.jsonl")"
rs_eq "peer (server) pid" "$ss_server" "$(jq -r .peer.pid "$tmp/unix.jsonl")"
rs_eq "family, direction" "unix outbound" "$(jq -r '"\(.family) \(.direction)"' "$tmp/unix.jsonl")"
same=$(jq -c '.flows[] | select(.proto == "unix" and .pid == .peer.pid)' "$tmp/snap.json" | head -1)
[[ -z $same ]] || rs_fail "a unix flow with one process at both ends: $same"
echo "ok: no unix flow inside one process"
