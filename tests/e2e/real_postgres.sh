#!/usr/bin/env bash
# PostgreSQL (Debian's postgresql-15), end to end (root). The server starts BEFORE the trace, so
# its listening socket is older than the tracer, as users see it. pgbench -C opens a new TCP
# connection per transaction; the postmaster forks a backend per connection and that backend
# serves it. The server's own log (log_connections, %p) says which backend pid served which
# client port. Checks:
#   - netviz's server-side flows on the port == the log's "connection received" lines of the
#     run == pgbench's processed transactions + 1 (pgbench's first connection reads the scale);
#     its client-side flows the same, every one paired with a server-side one;
#   - each server-side flow is owned by the backend the log names for its client port, comm
#     postgres, attribution handoff, accepted_by the postmaster; never the postmaster itself;
#   - each client-side flow is owned by pgbench (its pid, comm pgbench), attribution connect;
#   - a TCP connection still open when the trace stops (psql in pg_sleep) has the owner ss
#     -tanp shows (its backend), on both ends;
#   - stats: 0 lost; stitching the capture gives one edge pgbench -> postgres joined on both
#     ends with every connection, and no one-sided edge.
set -euo pipefail
source "$(dirname "$0")/lib/real_servers.sh"
rs_init postgres
rs_need "$PG/initdb" "$PG/pg_ctl" "$PG/pgbench" "$PG/psql" runuser
clients=4 per_client=25

port=$(rs_port)
rs_postgres_start "$port" 127.0.0.1
rs_wait_tcp "$port" || rs_fail "postgres does not listen on $port"
"$PG/pgbench" -h 127.0.0.1 -p "$port" -U postgres -i -q postgres >"$tmp/pgbench-init.log" 2>&1 ||
  rs_fail "pgbench -i failed"

rs_trace_start "$tmp/capture.json"
# The log from here on is the run's: pgbench -i connected before.
log_from=$(($(wc -l <"$tmp/postgres.log") + 1))

# One connection held open across the end of the trace (over TCP; its backend sleeps).
"$PG/psql" -h 127.0.0.1 -p "$port" -U postgres -c 'select pg_sleep(60)' postgres \
  >"$tmp/psql.log" 2>&1 &
psql_pid=$!
rs_pids+=("$psql_pid")

"$PG/pgbench" -h 127.0.0.1 -p "$port" -U postgres -C -c "$clients" -t "$per_client" postgres \
  >"$tmp/pgbench.log" 2>&1 &
pgbench_pid=$!
wait "$pgbench_pid" || rs_fail "pgbench failed"
processed=$(sed -n 's|^number of transactions actually processed: \([0-9]*\)/.*|\1|p' "$tmp/pgbench.log")
rs_eq "pgbench transactions processed" $((clients * per_client)) "$processed"

# The psql connection is up (its backend logged it), then ss sees who holds both ends.
for _ in $(seq 100); do
  [[ $(ss -Htn state established "( sport = :$port )" | wc -l) == 1 ]] && break
  sleep 0.1
done
ss -Htnp state established "( sport = :$port or dport = :$port )" >"$tmp/ss.txt"
[[ $(wc -l <"$tmp/ss.txt") == 2 ]] || rs_fail "ss does not show the psql connection: $(cat "$tmp/ss.txt")"
ss_backend=$(grep -E "127.0.0.1:$port +127" "$tmp/ss.txt" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p')
ss_psql=$(grep -E ":$port *users" "$tmp/ss.txt" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p')
rs_eq "ss: holder of the psql connection's client end" "$psql_pid" "$ss_psql"
sleep 0.3  # the last closes reach the tracer
rs_trace_stop
c=$tmp/capture.json

# The server's record: client port -> backend pid, for the connections of the run.
tail -n +"$log_from" "$tmp/postgres.log" |
  sed -n 's/^\([0-9]*\):LOG:  connection received: host=127.0.0.1 port=\([0-9]*\)$/\2 \1/p' |
  sort -n >"$tmp/log-ports.txt"
logged=$(wc -l <"$tmp/log-ports.txt")
rs_eq "connections in the postgres log (pgbench's + its setup one + psql)" $((processed + 2)) "$logged"
grep -q " $postmaster\$" "$tmp/log-ports.txt" && rs_fail "the log says the postmaster served a client"

rs_split_tcp "$c" "$port" "$logged"

# Every server-side flow: the backend the log names for its client port.
rs_expect_owners "$tmp/log-ports.txt" "the postgres log"
echo "ok: every server-side flow is owned by the backend the postgres log names ($logged)"
bad=$(jq -c --argjson pm "$postmaster" 'select(.comm != "postgres" or .direction != "inbound"
    or .family != "ipv4" or .attribution != "handoff" or .accepted_by.pid != $pm or .pid == $pm)' \
  "$tmp/server.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "server-side flows not handed from the postmaster $postmaster to a backend: $bad"
echo "ok: server side: comm postgres, inbound, ipv4, handoff, accepted_by the postmaster $postmaster"

# Every client-side flow: pgbench (or the held psql), paired with a server-side flow.
bad=$(jq -c --argjson pg "$pgbench_pid" --argjson ps "$psql_pid" 'select(
    (((.pid == $pg and .comm == "pgbench") or (.pid == $ps and .comm == "psql")) | not)
    or .direction != "outbound" or .family != "ipv4" or .attribution != "connect")' \
  "$tmp/client.jsonl" | head -3)
[[ -z $bad ]] || rs_fail "client-side flows not owned by pgbench $pgbench_pid / psql $psql_pid: $bad"
rs_eq "client-side flows of pgbench" $((logged - 1)) \
  "$(jq -c --argjson pg "$pgbench_pid" 'select(.pid == $pg)' "$tmp/client.jsonl" | wc -l)"
jq -r '.local.port' "$tmp/client.jsonl" | sort -n >"$tmp/client-ports.txt"
cut -d' ' -f1 "$tmp/log-ports.txt" | diff - "$tmp/client-ports.txt" >/dev/null ||
  rs_fail "client ports differ from the postgres log's"
echo "ok: client side: pgbench $pgbench_pid (and psql $psql_pid), outbound, connect, paired"

# The connection still open at the end: the holders ss showed, on both ends.
open_srv=$(jq -r 'select(.state == "ESTABLISHED") | .pid' "$tmp/server.jsonl")
open_cli=$(jq -r 'select(.state == "ESTABLISHED") | .pid' "$tmp/client.jsonl")
rs_eq "owner of the open connection, server end (ss: backend)" "$ss_backend" "$open_srv"
rs_eq "owner of the open connection, client end (ss: psql)" "$ss_psql" "$open_cli"
rs_eq "closed flows (both ends)" $((2 * (logged - 1))) \
  "$(cat "$tmp/server.jsonl" "$tmp/client.jsonl" | jq -r 'select(.state == "CLOSED") | .pid' | wc -l)"

rs_check_lost "$c"

rs_expect_edges "$port" "$c" "p:HOST|pgbench -> p:HOST|postgres tcp/$port both flows=$((logged - 1))" \
  "p:HOST|psql -> p:HOST|postgres tcp/$port both flows=1"
echo "ok: stitched: pgbench -> postgres and psql -> postgres, both ends joined, no one-sided edge"
echo "PASS real_postgres ($logged connections, backends as the log says)"
