#!/usr/bin/env bash
# Unix connections traced (root): PostgreSQL (Debian's postgresql-15) listening only on its
# unix socket in a temp dir, psql sessions connecting over it while netviz-trace runs. The
# server's own log (log_connections) counts the sessions. Checks:
#   - one unix flow per session the log shows ("connection received: host=[local]"), each
#     from a psql the test started to the socket's path, peer the backend that served it (the
#     pid the log line carries: the backend logs it after the postmaster forked it), never
#     the postmaster, outbound, attribution connect; the sessions that ended are CLOSED with
#     a duration;
#   - the session still open at the end (psql in pg_sleep) is open in the capture, its client
#     the psql that ss -xp shows holding the client end;
#   - stitched: one edge psql -> postgres, proto unix, labelled with the path, every session.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init unix_postgres
rs_need "$PG/initdb" "$PG/pg_ctl" "$PG/psql" runuser ss
sessions=5

port=$(rs_port)
rs_postgres_start "$port" ""
sock=$tmp/.s.PGSQL.$port
[[ -S $sock ]] || rs_fail "postgres made no socket $sock"

rs_trace_start "$tmp/capture.json"
log_from=$(($(wc -l <"$tmp/postgres.log") + 1))

# One session held open across the end of the trace.
"$PG/psql" -h "$tmp" -p "$port" -U postgres -c 'select pg_sleep(60)' postgres >"$tmp/held.log" 2>&1 &
held=$!
rs_pids+=("$held")
psqls=()
for i in $(seq "$sessions"); do
  "$PG/psql" -h "$tmp" -p "$port" -U postgres -Atc "select $i" postgres >"$tmp/psql$i.log" 2>&1 &
  psqls+=("$!")
  wait "$!" || rs_fail "psql $i failed: $(cat "$tmp/psql$i.log")"
done
# ss: the client end of the held session's connection, and who holds it.
for _ in $(seq 100); do
  ss -xpH state connected | grep -q "pid=$held," && break
  sleep 0.1
done
ss_client=$(ss -xpH state connected | grep -F "pid=$held," | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1)
rs_eq "ss -xp: holder of the held session's client end" "$held" "$ss_client"
rs_trace_stop
c=$tmp/capture.json

logged=$(tail -n +"$log_from" "$tmp/postgres.log" |
  grep -c '^[0-9]*:LOG:  connection received: host=\[local\]$' || true)
rs_eq "sessions in the postgres log" $((sessions + 1)) "$logged"

jq -c --arg p "$sock" '.flows[] | select(.proto == "unix" and .remote.addr == $p)' "$c" >"$tmp/unix.jsonl"
rs_eq "unix flows to $sock (one per logged session)" "$logged" "$(wc -l <"$tmp/unix.jsonl")"
pids=$(printf '%s\n' "${psqls[@]}" "$held" | sort -n | paste -sd,)
rs_eq "client pids (the psqls started)" "$pids" "$(jq -r .pid "$tmp/unix.jsonl" | sort -n | paste -sd,)"
backends=$(tail -n +"$log_from" "$tmp/postgres.log" |
  sed -n 's/^\([0-9]*\):LOG:  connection received: host=\[local\]$/\1/p' | sort -n | paste -sd,)
rs_eq "peers: the backends the postgres log names" "$backends" \
  "$(jq -r .peer.pid "$tmp/unix.jsonl" | sort -n | paste -sd,)"
bad=$(jq -c --argjson pm "$postmaster" 'select(.comm != "psql" or .peer.pid == $pm
    or .peer.comm != "postgres" or .direction != "outbound" or .family != "unix"
    or .attribution != "connect")' "$tmp/unix.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "unix flows not psql -> a postgres backend: $bad"
echo "ok: every unix flow: psql -> postgres (its backend, never the postmaster $postmaster), outbound, connect"
rs_eq "sessions ended, CLOSED with a duration" "$sessions" \
  "$(jq -c 'select(.state == "CLOSED" and .duration_ms > 0)' "$tmp/unix.jsonl" | wc -l)"
rs_eq "the session open at the end (ss: psql $held)" "$held" \
  "$(jq -r 'select(.duration_ms == null) | .pid' "$tmp/unix.jsonl")"
rs_check_lost "$c"

"$NETVIZ_STITCH" --format json -o "$tmp/graph.json" "$c" 2>"$tmp/stitch.log" ||
  rs_fail "netviz-stitch failed"
host=$(jq -r .host.name "$c")
got=$(jq -r --arg p "$sock" '.edges[] | select(.path == $p)
  | "\(.from) -> \(.to) \(.proto) \(.joined) flows=\(.flows)"' "$tmp/graph.json")
rs_eq "stitched edges labelled $sock" "p:$host|psql -> p:$host|postgres unix both flows=$logged" "$got"
echo "PASS unix_trace_postgres ($logged sessions over $sock)"
