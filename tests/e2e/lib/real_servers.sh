# Shared helpers of the real-server end-to-end tests (tests/e2e/real_*.sh), sourced, never run:
# tests/CMakeLists.txt registers only tests/e2e/*.sh, not this lib/ directory.
#
# Each test starts a server from its Debian package on 127.0.0.1 on a private port with its
# state in a private temp dir, drives it with its own load tool, traces with netviz-trace and
# compares netviz's flows with the tool's own counters and the server's own log. Nothing is
# installed here: scripts/setup.sh installs the packages. Everything started is stopped, and
# the temp dir removed, on every exit path.
#
# Use:  source "$(dirname "$0")/lib/real_servers.sh"; rs_init NAME
# Then: $tmp (the temp dir, world-readable), rs_bg CMD... (start in background, stopped at
# exit), rs_on_exit 'shell code' (run at exit, before the kills), rs_fail MSG, rs_port,
# rs_wait_tcp PORT, rs_wait_udp PORT, rs_trace_start / rs_trace_stop, rs_trace_bg, rs_netns_pair, rs_eq WHAT WANT GOT,
# rs_check_lost CAPTURE, rs_flows CAPTURE PROTO PORT SIDE.

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"

rs_name=
tmp=
rs_pids=()
rs_exit_hooks=()
rs_trace_pid=

rs_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || [[ -x $c ]] ||
      { echo "FAIL: $c not installed (scripts/setup.sh installs it)" >&2; exit 1; }
  done
}

rs_cleanup() {
  # Runs under set -e: no command here may end the cleanup early.
  set +e
  local h pid
  for h in "${rs_exit_hooks[@]}"; do eval "$h" >/dev/null 2>&1 || true; done
  [[ -n $rs_trace_pid ]] && kill -INT "$rs_trace_pid" 2>/dev/null
  rs_pids+=(${rs_trace_pid})
  for pid in "${rs_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # A server that ignores SIGTERM while it starts (or a stuck child) is killed after a grace time.
  for _ in $(seq 30); do
    local alive=0
    for pid in "${rs_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${rs_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n $tmp && -d $tmp && -z ${KEEP:-} ]] && rm -rf "$tmp"
  [[ -n ${KEEP:-} && -n $tmp ]] && echo "kept $tmp" >&2
  return 0
}

rs_init() {
  rs_name=$1
  [[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
  rs_need jq ss
  tmp=$(mktemp -d "/tmp/nvt-real-$rs_name.XXXXXX")
  # Servers drop to their own users (postgres, nginx workers as nobody): let them in.
  chmod 755 "$tmp"
  trap rs_cleanup EXIT
  trap 'exit 130' INT TERM
}

rs_on_exit() { rs_exit_hooks+=("$1"); }

# Logs of the run on stderr, then exit 1.
rs_fail() {
  echo "FAIL ($rs_name): $*" >&2
  local f
  for f in "$tmp"/*.log; do
    [[ -f $f ]] || continue
    echo "--- $f" >&2
    tail -15 "$f" >&2
  done
  exit 1
}

# Start a command in the background, its output in $tmp/NAME.log; stopped at exit.
# rs_bg NAME CMD...  (sets rs_last_pid)
rs_bg() {
  local name=$1; shift
  "$@" >"$tmp/$name.log" 2>&1 &
  rs_last_pid=$!
  rs_pids+=("$rs_last_pid")
}

# A free private port for both TCP and UDP on loopback, below the ephemeral range (client
# ports of storms live there) and away from the well-known ports of the distro's services.
rs_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    [[ -z $(ss -Hantu "( sport = :$p or dport = :$p )" 2>/dev/null) ]] && { echo "$p"; return 0; }
  done
  echo "FAIL: no free port" >&2
  return 1
}

# A private PostgreSQL cluster in $tmp/data, run as the postgres user, its socket in $tmp,
# every connection logged with the serving pid (log_line_prefix %p:), stopped at exit.
# Sets PG (the binaries) and postmaster (its pid).
PG=/usr/lib/postgresql/15/bin
rs_postgres_start() {  # PORT LISTEN_ADDRESSES ("" for the unix socket only)
  chown postgres "$tmp"
  runuser -u postgres -- "$PG/initdb" -D "$tmp/data" -A trust >"$tmp/initdb.log" 2>&1 ||
    rs_fail "initdb failed"
  rs_on_exit "runuser -u postgres -- $PG/pg_ctl -D $tmp/data -m immediate stop"
  runuser -u postgres -- "$PG/pg_ctl" -w -t 30 -D "$tmp/data" -l "$tmp/postgres.log" \
    -o "-p $1 -k $tmp -c listen_addresses=$2 -c log_connections=on -c log_line_prefix=%p:" \
    start >"$tmp/pg_ctl.log" 2>&1 || rs_fail "pg_ctl start failed"
  postmaster=$(head -1 "$tmp/data/postmaster.pid")
}

rs_wait_tcp() {  # PORT [tenths of a second]
  local n=${2:-100}
  for _ in $(seq "$n"); do
    [[ -n $(ss -Htln "sport = :$1") ]] && return 0
    sleep 0.1
  done
  return 1
}

rs_wait_udp() {  # PORT [tenths of a second]
  local n=${2:-100}
  for _ in $(seq "$n"); do
    [[ -n $(ss -Hauln "sport = :$1") ]] && return 0
    sleep 0.1
  done
  return 1
}

# Trace the whole host into a capture document: rs_trace_start FILE [netviz-trace options].
# Returns once netviz-trace says it is tracing (hooks attached, initial scan done).
rs_trace_start() {
  local out=$1; shift
  rs_trace_out=$out
  "$NETVIZ_TRACE" -o "$out" "$@" 2>"$tmp/trace.log" &
  rs_trace_pid=$!
  for _ in $(seq 300); do
    grep -q "netviz-trace: tracing" "$tmp/trace.log" 2>/dev/null && return 0
    kill -0 "$rs_trace_pid" 2>/dev/null || rs_fail "netviz-trace exited before tracing"
    sleep 0.1
  done
  rs_fail "netviz-trace did not start tracing in 30 s"
}

# Two hosts: rs_netns_pair TAG makes network namespaces $cns (nvTAG-c-PID) and $sns
# (nvTAG-s-PID), deleted at exit, joined by a veth pair (nvTAG-cPID in $cns, nvTAG-sPID in
# $sns), links down and no addresses; inc and ins run a command in each.
rs_netns_pair() {
  cns=nv$1-c-$$ sns=nv$1-s-$$
  ip netns add "$cns"
  rs_on_exit "ip netns del $cns"
  ip netns add "$sns"
  rs_on_exit "ip netns del $sns"
  ip link add "nv$1-c$$" netns "$cns" type veth peer name "nv$1-s$$" netns "$sns"
}
inc() { ip netns exec "$cns" "$@"; }
ins() { ip netns exec "$sns" "$@"; }

# A stream's connect lines to a NATed address all carry the address the server saw:
# rs_stream_nat STREAM VIRTUAL REAL PORT N (at least N lines to VIRTUAL, each with nat.remote
# REAL:PORT).
rs_stream_nat() {
  local all with
  all=$(jq -c --arg v "$2" 'select(.event == "connect" and .remote.addr == $v)' "$1" | jq -s length)
  ((all >= $5)) || rs_fail "stream: $all connect lines to $2 for $5 requests"
  with=$(jq -c --arg v "$2" --arg r "$3" --argjson p "$4" 'select(.event == "connect"
    and .remote.addr == $v and .nat.remote == {"addr": $r, "port": $p})' "$1" | jq -s length)
  rs_eq "stream: connect lines to $2 with nat.remote $3:$4" "$all" "$with"
}

# One of several tracers: rs_trace_bg NAME [netviz-trace options] writes a capture to
# $tmp/NAME.json, or with --format the stream to $tmp/NAME.jsonl, its stderr to
# $tmp/trace-NAME.log; its pid joins rs_trace_pids. Returns once it is tracing.
rs_trace_pids=()
rs_trace_bg() {
  local name=$1; shift
  if [[ " $* " == *" --format "* ]]; then
    "$NETVIZ_TRACE" "$@" >"$tmp/$name.jsonl" 2>"$tmp/trace-$name.log" &
  else
    "$NETVIZ_TRACE" "$@" -o "$tmp/$name.json" 2>"$tmp/trace-$name.log" &
  fi
  rs_trace_pids+=($!)
  rs_pids+=($!)
  for _ in $(seq 300); do
    grep -q "netviz-trace: tracing" "$tmp/trace-$name.log" && return 0
    sleep 0.1
  done
  rs_fail "netviz-trace $* did not start"
}

# Stop with SIGINT (Ctrl-C) and check it wrote the capture.
rs_trace_stop() {
  local pid=$rs_trace_pid rc=0
  kill -INT "$pid" 2>/dev/null || rs_fail "netviz-trace is not running"
  wait "$pid" || rc=$?
  rs_trace_pid=
  ((rc == 0)) || rs_fail "netviz-trace exited with status $rc"
  [[ -s $rs_trace_out ]] || rs_fail "no capture in $rs_trace_out"
  jq -e '.netviz == 1' "$rs_trace_out" >/dev/null || rs_fail "$rs_trace_out is not a capture"
}

rs_eq() {  # WHAT WANT GOT
  [[ "$2" == "$3" ]] || rs_fail "$1: want $2, got $3"
  echo "ok: $1 = $3"
}

# Nothing lost or unowned: the capture's own loss counters are all 0.
rs_check_lost() {
  local c=$1 k v
  for k in lost_events lost_kernel lost_user missed_hook_runs owner_records_not_stored \
           tcp_connect_without_record udp_counters_evicted; do
    v=$(jq -r --arg k "$k" '.stats[$k] // 0' "$c")
    [[ $v == 0 ]] || rs_fail "stats.$k = $v in $c (want 0): $(jq -c .stats "$c")"
  done
  echo "ok: stats: 0 lost ($(jq -c '.stats | {lost_events, lost_kernel, lost_user, events, flows_traced}' "$c"))"
}

# The traced flows of one end of a server port, as JSON lines:
# rs_flows CAPTURE PROTO PORT server|client
#   server: local port PORT; client: remote port PORT. Every flow counts: the port was free
#   before the test, so none is older than the trace (a UDP flow on a socket older than the
#   trace may still say attribution "scan": its owner came from the initial scan).
rs_flows() {
  local c=$1 proto=$2 port=$3 side=$4
  jq -c --arg proto "$proto" --argjson port "$port" --arg side "$side" '
    .flows[] | select(.proto == $proto)
    | select(if $side == "server" then .local.port == $port else .remote.port == $port end)' "$c"
}

# Stitch CAPTURE... as JSON into $tmp/graph.json and print its edges on PORT as lines
# "FROM -> TO PROTO/PORT JOINED flows=N".
rs_stitch_edges() {
  local port=$1; shift
  "$NETVIZ_STITCH" --format json -o "$tmp/graph.json" "$@" 2>"$tmp/stitch.log" ||
    rs_fail "netviz-stitch failed"
  jq -r --argjson port "$port" '.edges[] | select(.port == $port)
    | "\(.from) -> \(.to) \(.proto)/\(.port) \(.joined) flows=\(.flows)"' "$tmp/graph.json"
}

# Every client-side flow (file $2) has its server-side flow (file $1), paired by client port.
rs_expect_paired() {
  diff <(jq -r .remote.port "$1" | sort -n) <(jq -r .local.port "$2" | sort -n) >/dev/null ||
    rs_fail "client-side and server-side flows do not pair up by client port"
  echo "ok: every client-side flow has its server-side flow"
}

# The stitched edges on PORT of CAPTURE are exactly the given lines, HOST standing for the
# capture's host name.
rs_expect_edges() {
  local port=$1 c=$2 host got want=() line
  shift 2
  host=$(jq -r .host.name "$c")
  for line in "$@"; do want+=("${line//HOST/$host}"); done
  got=$(rs_stitch_edges "$port" "$c")
  [[ $got == "$(printf '%s\n' "${want[@]}")" ]] ||
    rs_fail "stitched edges on $port:"$'\n'"$got"$'\n'"want:"$'\n'"$(printf '%s\n' "${want[@]}")"
}

# Splits CAPTURE's TCP flows on PORT into $tmp/server.jsonl and $tmp/client.jsonl and checks
# each side holds exactly N flows.
rs_split_tcp() {
  local c=$1 port=$2 n=$3
  rs_flows "$c" tcp "$port" server >"$tmp/server.jsonl"
  rs_flows "$c" tcp "$port" client >"$tmp/client.jsonl"
  rs_eq "server-side TCP flows on $port" "$n" "$(wc -l <"$tmp/server.jsonl")"
  rs_eq "client-side TCP flows to $port" "$n" "$(wc -l <"$tmp/client.jsonl")"
}

# The server-side owners equal the server's own record: LOG_PORTS holds sorted
# "client-port pid" lines from its log; WHAT names that log in the failure.
rs_expect_owners() {
  jq -r '"\(.remote.port) \(.pid)"' "$tmp/server.jsonl" | sort -n >"$tmp/netviz-owners.txt"
  diff "$1" "$tmp/netviz-owners.txt" >"$tmp/owners.diff" ||
    rs_fail "server-side owners differ from $2 (< log, > netviz): $(cat "$tmp/owners.diff")"
}
