#!/usr/bin/env bash
# Fleet over NATS JetStream, end to end (root): a real `nats-server -js` on loopback with
# its storage in a temp dir; four network namespaces on a bridge are the hosts, each traced
# with `netviz-trace --netns X --publish` (its JSON lines also kept on stdout). Checked:
#   - NATS down when the tracers start: they trace anyway, the spool holds the events (two
#     hosts with a 4 kB memory part, the rest in the spool file);
#   - nats-server killed with -9 in the middle of the traffic and restarted on its storage;
#   - a --follow --durable stitcher killed with -9 and restarted with the same name;
#   - the subscribed graph equals the file-based stitch of the same streams, and every
#     host's stream reached NATS once: as many lines as its stdout, none twice; its SVG is
#     drawn;
#   - a wrong URL and refused credentials: one line, exit 2, before any tracing.
set -euo pipefail
. "$(dirname "$0")/lib/bridged_hosts.sh"

: "${NETVIZ_TRACE:?path to netviz-trace}"
: "${NETVIZ_STITCH:?path to netviz-stitch}"
[[ $(id -u) == 0 ]] || { echo "FAIL: needs root" >&2; exit 1; }
command -v nats-server >/dev/null || { echo "FAIL: nats-server not installed" >&2; exit 1; }

p=nvt-f-$$
tmp=$(mktemp -d /tmp/nvt-fleet.XXXXXX)
pids=()
nats_pid=
cleanup() {
  for pid in "${pids[@]}" $nats_pid; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bridged_hosts_down "$p" 4
  [[ -n ${NETVIZ_KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -8 "$f" >&2; done; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
url=nats://127.0.0.1:$port
start_nats() {
  nats-server -js -sd "$tmp/js" -a 127.0.0.1 -p "$port" >>"$tmp/nats.log" 2>&1 &
  nats_pid=$!
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && return
    sleep 0.1
  done
  fail "nats-server did not start"
}

# Bad input first: nothing traced, one line, exit 2.
set +e
"$NETVIZ_TRACE" --duration 1 --publish "http://127.0.0.1:$port" >/dev/null 2>"$tmp/bad-url.log"
rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$tmp/bad-url.log") == 1 ]] || fail "wrong URL: exit $rc, $(cat "$tmp/bad-url.log")"
grep -q -- "--publish" "$tmp/bad-url.log" || fail "wrong URL: the message does not name --publish"
authport=$(free_port)
nats-server -a 127.0.0.1 -p "$authport" --user fleet --pass right >"$tmp/nats-auth.log" 2>&1 &
auth_pid=$!
pids+=($auth_pid)
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $authport), 0.2)" 2>/dev/null && break
  sleep 0.1
done
set +e
"$NETVIZ_TRACE" --duration 1 --publish "nats://fleet:s3cretW0rd@127.0.0.1:$authport" >/dev/null \
  2>"$tmp/bad-creds.log"
rc=$?
set -e
[[ $rc == 2 && $(wc -l <"$tmp/bad-creds.log") == 1 ]] ||
  fail "refused credentials: exit $rc, $(cat "$tmp/bad-creds.log")"
grep -q "s3cretW0rd" "$tmp/bad-creds.log" && fail "the password was printed"
grep -q "fleet:\*\*\*@" "$tmp/bad-creds.log" || fail "the URL is not shown masked: $(cat "$tmp/bad-creds.log")"
grep -q tracing "$tmp/bad-creds.log" && fail "tracing began before the credentials were refused"
kill "$auth_pid"

# No server ever answers and the spool holds 2 kB: the overflow is said and counted, and the
# -o capture counts every event NATS never stored (in the spool at exit included).
"$NETVIZ_TRACE" --duration 4 --publish "nats://127.0.0.1:$(free_port)" --spool-max 2K \
  -o "$tmp/overflow.json" 2>"$tmp/overflow.log" &
ovf=$!
for _ in $(seq 150); do grep -q "tracing" "$tmp/overflow.log" 2>/dev/null && break; sleep 0.1; done
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(200); p = s.getsockname()[1]
for c in [socket.create_connection(("127.0.0.1", p)) for _ in range(100)]: c.close()'
wait "$ovf" || fail "netviz-trace with an overflowing spool failed"
grep -q "spool full (2048 bytes, --spool-max)" "$tmp/overflow.log" || fail "the spool overflow was not said"
said=$(sed -n 's/.* lost [0-9]* events (.*, \([0-9]*\) on the way to NATS)$/\1/p' "$tmp/overflow.log")
at_exit=$(sed -n 's/^netviz-trace: \([0-9]*\) events not yet stored .* at exit: lost$/\1/p' "$tmp/overflow.log")
counted=$(jq '.stats.lost_transport' "$tmp/overflow.json")
[[ -n $said ]] && (( said > 0 && counted == said + ${at_exit:-0} )) ||
  fail "overflow: stderr said $said lost (+${at_exit:-0} at exit), the capture counts $counted"
(( $(jq '.stats.lost_events' "$tmp/overflow.json") >= counted )) || fail "lost_transport not in lost_events"
echo "ok: spool overflow said and counted: $counted events lost on the way to NATS"

bridged_hosts_up "$p" 10.78.0 4

# A client opens a connection to each target every 0.1 s for a while, each with its own
# command name; a server answers every connection.
cat > "$tmp/peer.py" <<'PY'
import ctypes, socket, sys, threading, time
role, name, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
end = time.time() + secs
if role == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[4], int(sys.argv[5]))); s.listen(64); s.settimeout(0.2)
    def serve(c):
        while c.recv(4096): c.sendall(b"y")
        c.close()
    while time.time() < end:
        try: c, _ = s.accept()
        except socket.timeout: continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()
else:
    while time.time() < end:
        for i in range(4, len(sys.argv), 2):
            try:
                c = socket.create_connection((sys.argv[i], int(sys.argv[i + 1])), timeout=2)
                c.sendall(b"x" * 100); c.recv(10); c.close()
            except OSError:
                pass
        time.sleep(0.1)
PY
run_in() { local ns=$1; shift; ip netns exec "$p-$ns" python3 "$tmp/peer.py" "$@" & pids+=($!); }

# NATS is down while the tracers start: they must trace anyway.
# Hosts 1 and 2 keep only 4 kB of the spool in memory: the rest waits in a file.
for n in 1 2 3 4; do
  spool=()
  ((n <= 2)) && spool=(--test-spool-memory 4K)
  "$NETVIZ_TRACE" --netns "$p-ns$n" --duration 14 --format json --publish "$url" "${spool[@]}" \
    >"$tmp/stream$n.jsonl" 2>"$tmp/trace$n.log" &
  tracer[$n]=$!
  pids+=($!)
done
for n in 1 2 3 4; do
  for _ in $(seq 150); do grep -q "tracing" "$tmp/trace$n.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "tracing" "$tmp/trace$n.log" || fail "netviz-trace for ns$n did not start with NATS down"
  grep -q "not reachable" "$tmp/trace$n.log" || fail "netviz-trace for ns$n did not say NATS is down"
done

run_in ns2 server srv2 11 10.78.0.2 8080
run_in ns3 server srv3 11 10.78.0.3 9090
run_in ns4 server srv4 11 10.78.0.4 7070
run_in ns1 server lo1srv 11 127.0.0.1 7000
sleep 0.3
run_in ns1 client cli1 9 10.78.0.2 8080
run_in ns2 client mid2 9 10.78.0.3 9090
run_in ns3 client cli3 9 10.78.0.4 7070
run_in ns1 client lo1cli 9 127.0.0.1 7000
sleep 1.5
start_nats
# A stitcher following with a durable consumer, killed hard and restarted below.
"$NETVIZ_STITCH" --subscribe "$url" --durable fleet1 --follow --format json \
  -o "$tmp/follow.json" >"$tmp/changes1.jsonl" 2>"$tmp/stitch1.log" &
stitch_pid=$!
pids+=($stitch_pid)
# The tracers reconnect within 5 s; the stitcher must have acknowledged some of their
# events before the kill, or there is no durable state to resume.
for _ in $(seq 100); do [[ -s $tmp/changes1.jsonl ]] && break; sleep 0.1; done
[[ -s $tmp/changes1.jsonl ]] || fail "the first stitcher wrote no change in 10 s"
# The server writes a consumer's acknowledgements to its storage a moment later; a kill -9
# right after the first change lost them on a loaded machine (nothing to resume). The clients
# go on for 9 s, so the kill still falls in the middle of the traffic.
sleep 1.5
kill -9 "$nats_pid"; wait "$nats_pid" 2>/dev/null || true
echo "killed nats-server with -9 mid-traffic" >&2
sleep 1
kill -9 "$stitch_pid"; wait "$stitch_pid" 2>/dev/null || true
start_nats
"$NETVIZ_STITCH" --subscribe "$url" --durable fleet1 --follow --format json -v \
  -o "$tmp/follow.json" >"$tmp/changes2.jsonl" 2>"$tmp/stitch2.log" &
stitch_pid=$!
pids+=($stitch_pid)

for n in 1 2 3 4; do wait "${tracer[$n]}" || fail "netviz-trace for ns$n failed"; done
for n in 1 2; do
  grep -q "wait in a spool file" "$tmp/trace$n.log" || fail "host $n did not spill to its spool file"
done
for n in 1 2 3 4; do
  tail -1 "$tmp/stream$n.jsonl" | grep -q '"event":"stats"' || fail "stream $n has no stats line"
  grep -q "not yet stored" "$tmp/trace$n.log" && fail "netviz-trace ns$n left events unsent"
done
sleep 2
kill -INT "$stitch_pid"
wait "$stitch_pid" || fail "the resumed stitcher failed"

# Messages on netviz subjects that are no netviz events: a stranger's subject, and a broken
# line on a real host's subject. Sent with the plain NATS protocol; the stream stores them.
host1=$(grep -m1 -o '"machine_id":"[^"]*"' "$tmp/stream1.jsonl" | cut -d'"' -f4)
ino1=$(stat -L -c %i "/run/netns/$p-ns1")
python3 - "$port" "netviz.$host1-$ino1.events" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(4096)
msgs = [("netviz.stranger.events", b"hello, not json"), (sys.argv[2], b'{"event":"flow","time":'),
        ("netviz.stranger.events", b'{"event":"host","version":99}')]
out = b'CONNECT {"verbose":false}\r\n'
for subj, data in msgs:
    out += b"PUB %s %d\r\n%s\r\n" % (subj.encode(), len(data), data)
s.sendall(out + b"PING\r\n")
buf = b""
while b"PONG" not in buf: buf += s.recv(4096)
PY
sleep 0.5

"$NETVIZ_STITCH" --format json -o "$tmp/files.json" "$tmp"/stream{1,2,3,4}.jsonl 2>"$tmp/stitch-files.log" ||
  fail "file-based stitch failed"
"$NETVIZ_STITCH" --subscribe "$url" --format json -v -o "$tmp/nats.json" 2>"$tmp/stitch-nats.log" ||
  fail "netviz-stitch --subscribe failed"
# A picture of the subscribed graph, drawn while the NATS client's threads run (by the
# render worker forked before them).
"$NETVIZ_STITCH" --subscribe "$url" --format svg -o "$tmp/nats.svg" 2>"$tmp/stitch-svg.log" ||
  fail "netviz-stitch --subscribe --format svg failed"
grep -q '</svg>' "$tmp/nats.svg" || fail "no SVG from --subscribe: $(head -c 200 "$tmp/nats.svg")"

python3 - "$tmp" <<'PY'
import glob, json, re, sys
tmp = sys.argv[1]
def edges(path):
    g = json.load(open(path))
    return g, sorted("%s -> %s %s/%d %s" % (e["from"], e["to"], e["proto"], e["port"], e["joined"])
                     for e in g["edges"])
gf, files = edges(tmp + "/files.json")
gn, nats = edges(tmp + "/nats.json")
gd, durable = edges(tmp + "/follow.json")
ok = True
if len(files) < 4:
    print("FAIL: the file-based graph has only %d edges: %s" % (len(files), files)); ok = False
if nats != files:
    print("FAIL: subscribed graph differs\n nats: %s\nfiles: %s" % ("\n       ".join(nats), "\n       ".join(files))); ok = False
if durable != files:
    print("FAIL: the restarted durable stitcher's graph differs\n got: %s" % "\n      ".join(durable)); ok = False
if sorted(gn["hosts"]) != sorted(gf["hosts"]) or len(gf["hosts"]) != 4:
    print("FAIL: hosts", gn["hosts"], gf["hosts"]); ok = False
# Every host's lines reached the stream once: the stitcher counts what it read per subject.
counts = {}
for line in open(tmp + "/stitch-nats.log"):
    m = re.match(r"netviz-stitch: (netviz\.\S+\.events): (\d+) lines from", line)
    if m and m.group(1) != "netviz.stranger.events": counts[m.group(1)] = int(m.group(2))
local = sorted(sum(1 for l in open(f) if l.strip()) for f in glob.glob(tmp + "/stream*.jsonl"))
if sorted(counts.values()) != local:
    print("FAIL: lines per host in NATS %s, on stdout %s" % (sorted(counts.values()), local)); ok = False
if not ok: sys.exit(1)
print("ok: %d edges, %d hosts, lines per host %s equal on stdout and in NATS" % (len(files), len(gf["hosts"]), local))
PY
grep -q "resumed durable fleet1" "$tmp/stitch2.log" || fail "the restarted stitcher did not resume its durable"
# Each bad host named once with its subject and stream sequence, then counted.
[[ $(grep -c "netviz.stranger.events stream seq [0-9]*: not a netviz event" "$tmp/stitch-nats.log") == 1 ]] ||
  fail "the stranger's messages were not named once"
grep -q "netviz.stranger.events: 2 lines were not netviz events" "$tmp/stitch-nats.log" ||
  fail "the stranger's lines were not counted"
grep -q "netviz.$host1-$ino1.events stream seq [0-9]*: not a netviz event" "$tmp/stitch-nats.log" ||
  fail "the broken line on host 1's subject was not named"
# One snapshot published: host 1's subject gets a second run (its own host line).
"$NETVIZ_TRACE" --snapshot --netns "$p-ns1" --publish "$url" -o "$tmp/snap1.json" 2>"$tmp/snap.log" ||
  fail "netviz-trace --snapshot --publish failed"
[[ -s $tmp/snap1.json ]] || fail "--snapshot --publish -o wrote no capture"
"$NETVIZ_STITCH" --subscribe "$url" --format json -v -o "$tmp/nats2.json" 2>"$tmp/stitch-nats2.log" ||
  fail "netviz-stitch --subscribe after the snapshot failed"
grep -q "netviz.$host1-$ino1.events: [0-9]* lines from 2 tracer run(s)" "$tmp/stitch-nats2.log" ||
  fail "the published snapshot is not a second run of host 1"
echo "PASS fleet_nats"
